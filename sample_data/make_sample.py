"""Write sample_data/sample.warc.gz: a small CommonCrawl-style WARC that exercises every stage.

Run `python sample_data/make_sample.py` to regenerate it. The pages are written for this
project. What each one is for:

- articles in English, German, French, Spanish and Chinese that pass every filter;
- a near-duplicate and an exact copy (under a tracking-parameter URL) of one article, and a
  re-capture of another under the same URL, for the dedup stages;
- a paragraph shared by several articles, for exact-substring dedup;
- a German page in ISO-8859-1 declared only in <meta>, and a cp1252 page with no declaration;
- a blocklisted domain, an adult URL and a curated source (wikipedia.org), for the URL filter;
- a navigation-only page, a picture gallery with no text, a repetitive spam page, a short
  page, a list of numbers, a page whose boilerplate lines exceed the line-wise budget, and a
  page of symbols that no language claims;
- records that are not HTML 200 responses: warcinfo, request and metadata records, a 404,
  a 301 redirect and a PNG image.
"""

from __future__ import annotations

import io
import os
import uuid

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "sample.warc.gz")

SHARED_PARAGRAPH = (
    "Readers who want to follow the work of the community garden association can attend the "
    "monthly open meeting, held on the first Tuesday of every month in the library annex, where "
    "volunteers present the accounts, the planting calendar and the list of tools that need "
    "repair, and where every member may propose a project for the coming season."
)

ENGLISH = {
    "harbour": [
        "The Old Harbour Reopens After Two Years of Repairs",
        "The old harbour reopened to fishing boats on Monday after two years of repairs to the "
        "sea wall, which had been damaged by a series of winter storms. The work cost the town "
        "more than it had planned, but the harbour master said that the new wall should last for "
        "at least half a century and that the boats would no longer have to shelter in the bay.",
        "Local fishermen welcomed the news. Many of them had moved their boats to a larger port "
        "further along the coast, which added an hour of travel to every trip and made it harder "
        "to sell the catch while it was still fresh. The market hall next to the harbour will "
        "open again on Saturday mornings, and the council hopes that the visitors will return "
        "with the boats.",
        "The engineers who designed the repairs used large blocks of local stone rather than "
        "concrete, so that the wall would match the older parts of the harbour. They also raised "
        "the wall by almost a metre, because the storms of the last decade have been stronger "
        "than those of the century before, and the tide now reaches higher than the old records "
        "show.",
    ],
    "bread": [
        "How to Bake a Simple Loaf of Bread at Home",
        "Baking bread at home takes time, but very little work. You need flour, water, salt and "
        "a small amount of yeast, and you need to give the dough enough hours to rise. Many "
        "beginners add too much yeast because they want the bread to be ready quickly, and the "
        "result is a loaf that tastes of yeast and goes stale within a day.",
        "Mix the flour and the water first and let them rest for half an hour. This rest allows "
        "the flour to absorb the water, and the dough becomes easier to knead. Then add the salt "
        "and the yeast, and knead the dough for about ten minutes, until it is smooth and "
        "springs back when you press it with a finger.",
        "Leave the dough covered in a cool place overnight. In the morning, shape it into a "
        "round loaf, let it rise for another hour, and bake it in a very hot oven. The crust "
        "should be dark and hollow when you knock on the bottom of the loaf. Let the bread cool "
        "before you cut it, or the inside will be sticky.",
    ],
    "library": [
        "The Library That Lends Tools as Well as Books",
        "The public library on the east side of the city has started to lend tools as well as "
        "books. Members can borrow a drill, a ladder, a sewing machine or a set of garden tools "
        "for a week, with the same card they use for books. The idea came from a group of "
        "residents who noticed that most households own tools that they use only once or twice "
        "a year.",
        "In the first three months, the library lent more than four hundred tools. The most "
        "popular items were the ladders and the carpet cleaner, and the staff have already "
        "ordered a second pressure washer because the waiting list for the first one had grown "
        "to several weeks. Volunteers check each tool when it comes back and repair what they "
        "can.",
        SHARED_PARAGRAPH,
        "The library plans to add a small workshop where members can use the larger machines on "
        "site, under the guidance of a volunteer. It has also asked local businesses to donate "
        "tools that they no longer need, and several have already done so.",
    ],
    "river": [
        "Volunteers Count the Birds Along the River",
        "Every spring, a group of volunteers walks the full length of the river to count the "
        "birds that nest along its banks. This year they counted more kingfishers than in any "
        "year since the survey began, which they believe is a sign that the water has become "
        "cleaner since the old paper mill closed and the farms upstream changed the way they "
        "use fertiliser.",
        "The survey takes three weekends. The volunteers work in pairs, each pair covering a "
        "section of about two kilometres, and they record every bird they see or hear. The "
        "results are sent to a national database, where scientists compare them with the counts "
        "from other rivers across the country.",
        SHARED_PARAGRAPH,
        "Not all of the news was good. The number of swallows has fallen again, as it has for "
        "most of the last decade, and the volunteers found fewer nests under the old stone "
        "bridges. Some of the bridges were repaired last year, and the new mortar left no gaps "
        "for the birds to build in.",
    ],
    "garden": [
        "A Small Guide to Growing Tomatoes on a Balcony",
        "Tomatoes grow well in pots, as long as they have enough sun and enough water. A balcony "
        "that faces south is ideal, but a west-facing one will do, and there are small varieties "
        "that have been bred for containers. Choose a pot that holds at least fifteen litres of "
        "soil for each plant, because the roots need space and the soil dries out quickly in a "
        "small pot.",
        "Water the plants in the morning, and water them deeply rather than often. Irregular "
        "watering is the most common reason for split fruit and for the dark patches that appear "
        "at the bottom of the tomatoes. Feed the plants once a week with a fertiliser that is "
        "rich in potassium when the first flowers appear.",
        SHARED_PARAGRAPH,
        "Tall varieties need a stake or a cage, and most of them need the side shoots removed "
        "so that the plant puts its energy into the fruit. Bush varieties can be left alone. "
        "Pick the tomatoes when they are fully coloured, and keep them out of the fridge, where "
        "they lose their taste.",
    ],
    "trains": [
        "Night Trains Return to the Northern Line",
        "The railway company will run night trains on the northern line again from next summer, "
        "for the first time in fifteen years. The trains will leave the capital late in the "
        "evening and arrive at the coast early the next morning, with sleeping cars, a small "
        "restaurant car and space for bicycles.",
        "The company stopped the night service when most travellers switched to cheap flights. "
        "It now says that demand has grown again, because many people prefer to travel without "
        "flying and because a night on the train saves the cost of a hotel. The first tickets "
        "sold out within a day of going on sale.",
        "The carriages have been rebuilt from older stock. Each compartment has two or four "
        "beds, a washbasin and a window that opens, and the company has promised that the "
        "trains will be quieter than the ones that ran on the line before. Passengers will be "
        "woken with breakfast half an hour before arrival.",
    ],
}

GERMAN = [
    "Die Stadtbibliothek verlängert ihre Öffnungszeiten",
    "Die Stadtbibliothek ist ab dem kommenden Monat auch am Sonntag geöffnet. Der Stadtrat hat "
    "die zusätzlichen Mittel in der letzten Sitzung bewilligt, nachdem mehr als zweitausend "
    "Bürgerinnen und Bürger eine Petition unterschrieben hatten. Die Bibliothek ist damit die "
    "erste in der Region, die an sieben Tagen in der Woche für ihre Leser da ist.",
    "Am Sonntag gibt es kein volles Programm, aber die Lesesäle, die Kinderabteilung und die "
    "Ausleihe sind von zehn bis sechzehn Uhr geöffnet. Die Leiterin der Bibliothek sagte, dass "
    "vor allem Familien und Studierende von den neuen Zeiten profitieren werden, weil sie unter "
    "der Woche oft nicht die Zeit haben, in Ruhe zu lesen oder zu arbeiten.",
    "Für die Sonntage werden keine neuen Stellen geschaffen. Die Mitarbeiterinnen und "
    "Mitarbeiter arbeiten im Wechsel und bekommen dafür einen freien Tag unter der Woche. Der "
    "Personalrat hat dem Modell zugestimmt, will aber nach einem Jahr prüfen, ob die Belastung "
    "für das Team zu groß ist.",
]

GERMAN_LATIN1 = [
    "Der Wochenmarkt zieht auf den Rathausplatz",
    "Der Wochenmarkt findet ab Mai nicht mehr in der Bahnhofstraße statt, sondern auf dem "
    "Rathausplatz. Die Händler hatten sich seit Jahren über den engen Platz und den Verkehr "
    "beklagt, und die Stadt hat nun eine Lösung gefunden, die auch den Anwohnern gefällt. Auf "
    "dem größeren Platz haben mehr Stände Platz, und die Kunden müssen nicht mehr zwischen "
    "parkenden Autos hindurchgehen.",
    "Der Markt ist weiterhin am Mittwoch und am Samstag geöffnet. Neu ist, dass es am Samstag "
    "auch einen Bereich für regionale Handwerker geben wird, die ihre Waren bisher nur auf "
    "Weihnachtsmärkten verkaufen konnten. Die Gebühren für die Stände bleiben für das erste Jahr "
    "unverändert, danach will die Stadt sie mit den Händlern neu verhandeln.",
]

FRENCH_CP1252 = [
    "Le festival de musique de la vallée fête ses vingt ans",
    "Le festival de musique de la vallée célèbre cette année sa vingtième édition. Pendant une "
    "semaine, des musiciens venus de toute l'Europe joueront dans les églises, les granges et "
    "les places des villages, et la plupart des concerts seront gratuits. Les organisateurs "
    "attendent plus de visiteurs que l'an dernier, et ils ont ajouté des navettes entre les "
    "villages pour que le public puisse laisser sa voiture à la maison.",
    "Le programme mêle la musique ancienne, le jazz et les chansons traditionnelles de la "
    "région. Une soirée sera consacrée aux jeunes musiciens de l'école de musique, qui ont "
    "préparé un concert avec l'orchestre du festival. Les bénévoles, qui sont plus de deux "
    "cents cette année, s'occupent de l'accueil, des repas et de l'installation des scènes.",
]

SPANISH = [
    "La ciudad abre un nuevo parque junto al río",
    "La ciudad ha abierto un nuevo parque en los terrenos de una antigua fábrica junto al río. "
    "El parque tiene senderos para caminar y para ir en bicicleta, zonas de juego para los "
    "niños y un pequeño huerto que cuidarán los vecinos del barrio. Durante años, la zona "
    "estuvo cerrada al público y muchos vecinos no sabían que se podía llegar a la orilla del "
    "río desde sus calles.",
    "Los arquitectos conservaron la chimenea de la fábrica y algunos de los muros de ladrillo, "
    "que ahora forman parte de una plaza donde se celebrarán conciertos y mercados. También "
    "plantaron más de quinientos árboles, la mayoría de especies que crecen de forma natural en "
    "la región y que necesitan poca agua durante el verano.",
]

CHINESE = [
    "城市图书馆延长开放时间",
    "从下个月开始，城市图书馆将在周末延长开放时间。图书馆表示，越来越多的学生和家庭希望在周末"
    "来图书馆阅读和学习，因此决定把周六和周日的闭馆时间推迟到晚上八点。图书馆还将增加儿童阅读区"
    "的座位，并在每个周末举办免费的讲座和读书活动。",
    "馆长说，这项决定是在听取了读者的意见之后做出的。过去一年里，图书馆收到了数百份建议，其中大"
    "多数都希望延长开放时间。为了不增加工作人员的负担，图书馆将招募更多的志愿者，协助借还图书和"
    "维持阅览室的秩序。",
]

NAVIGATION = """<html><head><title>Shop</title></head><body>
<nav><a href="/">Home</a> | <a href="/shop">Shop</a> | <a href="/cart">Cart</a></nav>
<ul><li><a href="/a">Products</a></li><li><a href="/b">Offers</a></li></ul>
<footer>Copyright Example Shop. All rights reserved.</footer></body></html>"""


GALLERY = """<html><head><title>Gallery</title><script>var slides = [1, 2, 3];</script></head>
<body><div class="gallery"><img src="/1.jpg"><img src="/2.jpg"><img src="/3.jpg"></div></body>
</html>"""


def article_html(
    title: str, paragraphs: list[str], lang: str, extra: str = "", charset_meta: str = "utf-8"
) -> str:
    """A plain article page with a navigation bar and a footer around the content."""
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head>{meta}<title>{title}</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/about">About</a></nav></header>
<main><article><h1>{title}</h1>
{body}
{extra}
</article></main>
<footer><p>Contact us</p><p>Privacy</p></footer>
</body></html>"""


def near_duplicate(paragraphs: list[str]) -> list[str]:
    """The same article with a handful of words changed (Jaccard of 5-grams ~0.9)."""
    changed = [p.replace("Monday", "Tuesday") for p in paragraphs]
    changed[-1] = changed[-1].replace("half a century", "fifty years")
    return changed


def pages() -> list[dict]:
    """Every capture in the sample, in WARC order."""
    out: list[dict] = []

    def page(
        url, html, date, content_type="text/html; charset=utf-8", status="200 OK", encoding="utf-8"
    ):
        body = html.encode(encoding) if isinstance(html, str) else html
        out.append(dict(url=url, body=body, date=date, content_type=content_type, status=status))

    day = "2024-03-0{}T{:02d}:00:00Z"
    for i, (slug, (title, *paragraphs)) in enumerate(ENGLISH.items()):
        page(
            f"https://news.example.org/{slug}",
            article_html(title, paragraphs, "en"),
            day.format(2, i),
        )
    harbour_title, *harbour = ENGLISH["harbour"]
    page(
        "https://coast-news.example.com/harbour-reopens",
        article_html(harbour_title, near_duplicate(harbour), "en"),
        day.format(3, 1),
    )
    page(
        "https://news.example.org/harbour?utm_source=feed&utm_medium=rss",
        article_html(harbour_title, harbour, "en"),
        day.format(3, 2),
    )
    bread_title, *bread = ENGLISH["bread"]
    page("https://news.example.org/bread", article_html(bread_title, bread, "en"), day.format(4, 1))

    title, *paragraphs = GERMAN
    page(
        "https://zeitung.example.de/bibliothek",
        article_html(title, paragraphs, "de"),
        day.format(2, 10),
    )
    title, *paragraphs = GERMAN_LATIN1
    page(
        "https://stadt.example.de/markt",
        article_html(title, paragraphs, "de", charset_meta="iso-8859-1"),
        day.format(2, 11),
        content_type="text/html",
        encoding="latin-1",
    )
    title, *paragraphs = FRENCH_CP1252
    page(
        "https://journal.example.fr/festival",
        article_html(title, paragraphs, "fr", charset_meta=""),
        day.format(2, 12),
        content_type="text/html",
        encoding="cp1252",
    )
    title, *paragraphs = SPANISH
    page(
        "https://diario.example.es/parque", article_html(title, paragraphs, "es"), day.format(2, 13)
    )
    title, *paragraphs = CHINESE
    page(
        "https://news.example.cn/library", article_html(title, paragraphs, "zh"), day.format(2, 14)
    )

    # URL filter: blocklisted domain, an adult word, a curated source.
    page(
        "https://www.casino-jackpot.example/bonus",
        article_html(*ENGLISH["trains"][:2], "en"),
        day.format(5, 1),
    )
    page(
        "https://videos.example.net/free-porn-clips",
        article_html(*ENGLISH["trains"][:2], "en"),
        day.format(5, 2),
    )
    page(
        "https://en.wikipedia.org/wiki/Harbour",
        article_html(*ENGLISH["harbour"][:2], "en"),
        day.format(5, 3),
    )

    # Pages the filters should drop.
    page("https://shop.example.com/", NAVIGATION, day.format(6, 1))
    page("https://media.example.com/gallery", GALLERY, day.format(6, 7))
    spam = ["Buy cheap watches online today.", "Best prices guaranteed for every watch."] * 30
    page(
        "https://watches.example.com/deals",
        article_html("Cheap watches", spam, "en"),
        day.format(6, 2),
    )
    page(
        "https://blog.example.com/short",
        article_html("Hello", ["Thanks for visiting my blog, more soon."], "en"),
        day.format(6, 3),
    )
    numbers = [" ".join(str(n * k) for k in range(1, 12)) for n in range(1, 12)]
    page(
        "https://tables.example.com/numbers",
        article_html("Tables", numbers, "en"),
        day.format(6, 4),
    )
    title, *paragraphs = ENGLISH["river"]
    noisy = (
        paragraphs[:1]
        + [
            "12 likes",
            "SHARE THIS STORY NOW",
            "Read more",
            "2024",
            "Comments",
            "345 views",
            "FOLLOW US ON EVERY NETWORK",
            "Subscribe",
            "Newsletter",
            "Login",
            "Menu",
        ]
        + paragraphs[1:2]
    )
    page("https://birds.example.org/count", article_html(title, noisy, "en"), day.format(6, 5))
    symbols = ["§ ¶ † ‡ • ◊ ∆ ∑ ∏ √ ∞ ≈ ≠ ≤ ≥ ÷ × ± ∂ ∫ ¬ ∧ ∨ ∩ ∪ ⊂ ⊃ ∈ ∉"] * 3
    page("https://symbols.example.com/", article_html("§", symbols, ""), day.format(6, 6))

    # Records that are not HTML 200 responses.
    page(
        "https://news.example.org/missing",
        "<html><body>Not found</body></html>",
        day.format(7, 1),
        status="404 Not Found",
    )
    page("https://news.example.org/old", "", day.format(7, 2), status="301 Moved Permanently")
    page(
        "https://news.example.org/logo.png",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        day.format(7, 3),
        content_type="image/png",
    )
    return out


def record_id(*parts: str) -> str:
    """A fixed WARC-Record-ID, so regenerating the file gives the same ids."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, '|'.join(parts))}>"


def write(path: str = OUTPUT) -> str:
    """Write the sample WARC (gzip member per record, as CommonCrawl) and return its path."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    info = writer.create_warcinfo_record(
        "sample.warc.gz",
        {"software": "macrodata sample_data/make_sample.py", "format": "WARC File Format 1.0"},
    )
    info.rec_headers.replace_header("WARC-Record-ID", record_id("warcinfo"))
    info.rec_headers.replace_header("WARC-Date", "2024-03-01T00:00:00Z")
    writer.write_record(info)
    for item in pages():
        url, date = item["url"], item["date"]
        common = {"WARC-Date": date}
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(f"GET / HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n\r\n".encode()),
            warc_headers_dict={**common, "WARC-Record-ID": record_id("request", url, date)},
        )
        headers = StatusAndHeaders(
            item["status"], [("Content-Type", item["content_type"])], protocol="HTTP/1.1"
        )
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(item["body"]),
            http_headers=headers,
            warc_headers_dict={**common, "WARC-Record-ID": record_id("response", url, date)},
        )
        metadata = writer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
            warc_content_type="application/warc-fields",
            warc_headers_dict={**common, "WARC-Record-ID": record_id("metadata", url, date)},
        )
        for record in (request, response, metadata):
            writer.write_record(record)
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path


if __name__ == "__main__":
    print(write())
