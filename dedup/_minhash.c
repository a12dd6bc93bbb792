/* Compiled MinHash for dedup/minhash.py: a document's band keys from its word hashes, and the
 * word hashes of a text through a token cache.
 *
 * Every value equals the numpy reference in dedup/minhash.py and dedup/shingles.py bit for bit
 * (tests/dedup/test_minhash_compiled.py): the same blake2b word hashes, n-gram and band
 * combining, mix64, and hash family h_i(x) = a_i * x mod 2^32. What changes is where the work
 * happens. The reference writes every product a_i * x of a (shingles x hashes) block to memory
 * and reads it back to take the minimum; here the products stay in SIMD registers. And the
 * reference keeps its token cache in Python objects; here it is a C table, so a known token
 * costs a hash and a compare, and a new token of ASCII characters is normalised and hashed in
 * C as well.
 *
 * Only the buffer protocol and the CPython C API are used: no numpy headers at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

/* SIMD without -march=native: the compiler builds the signature loop once per target and the
 * loader picks the best clone for the CPU (an ifunc, hence glibc on x86-64 only). Elsewhere
 * the loop is compiled for the baseline target, which the compiler still vectorises. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define MINHASH_CLONES 1
#endif
#endif

#ifdef MINHASH_CLONES
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SIMD_CLONES
#endif

/* --- the arithmetic of dedup/shingles.py ----------------------------------------------- */

/* splitmix64's finaliser, as shingles.mix64. */
static inline uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    x ^= x >> 31;
    return x;
}

/* shingles.combine of one row of n values (n <= 16): sum of value * position multiplier. */
static inline uint64_t
combine_u64(const uint64_t *values, Py_ssize_t n, const uint64_t *positions)
{
    uint64_t acc = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        acc += values[i] * positions[i];
    return mix64(acc);
}

static inline uint64_t
combine_u32(const uint32_t *values, Py_ssize_t n, const uint64_t *positions)
{
    uint64_t acc = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        acc += (uint64_t)values[i] * positions[i];
    return mix64(acc);
}

/* MinHasher.band_hashes of one band: up to 16 rows at once, longer bands 16 rows at a time and
 * then the partial hashes. */
static uint64_t
band_hash(const uint32_t *rows, Py_ssize_t n, const uint64_t *positions)
{
    if (n <= 16)
        return combine_u32(rows, n, positions);
    uint64_t acc = 0;
    for (Py_ssize_t start = 0, part = 0; start < n; start += 16, part++) {
        Py_ssize_t len = n - start < 16 ? n - start : 16;
        acc += combine_u32(rows + start, len, positions) * positions[part];
    }
    return mix64(acc);
}

/* --- word hashes: BLAKE2b with an 8-byte digest, as shingles.word_hash (RFC 7693) ------- */

static const uint64_t BLAKE2B_IV[8] = {
    0x6A09E667F3BCC908ULL, 0xBB67AE8584CAA73BULL, 0x3C6EF372FE94F82BULL, 0xA54FF53A5F1D36F1ULL,
    0x510E527FADE682D1ULL, 0x9B05688C2B3E6C1FULL, 0x1F83D9ABFB41BD6BULL, 0x5BE0CD19137E2179ULL,
};

/* The message word order of each round; rounds 10 and 11 reuse rows 0 and 1. */
static const uint8_t BLAKE2B_SIGMA[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static inline uint64_t
rotr64(uint64_t x, int n)
{
    return (x >> n) | (x << (64 - n));
}

static inline uint64_t
load64_le(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

#define BLAKE2B_G(a, b, c, d, x, y)   \
    do {                              \
        a = a + b + (x);              \
        d = rotr64(d ^ a, 32);        \
        c = c + d;                    \
        b = rotr64(b ^ c, 24);        \
        a = a + b + (y);              \
        d = rotr64(d ^ a, 16);        \
        c = c + d;                    \
        b = rotr64(b ^ c, 63);        \
    } while (0)

/* One 128-byte block; `counter` is the message bytes so far, this block's included. */
static void
blake2b_compress(uint64_t h[8], const uint8_t block[128], uint64_t counter, int last)
{
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++)
        m[i] = load64_le(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = BLAKE2B_IV[i];
    }
    v[12] ^= counter; /* the counter's high 64 bits (v[13]) stay 0 below 2^64 bytes */
    if (last)
        v[14] = ~v[14];
    /* Unrolled, the message schedule is constant: m[] stays in registers (a third faster). */
#pragma GCC unroll 12
    for (int round = 0; round < 12; round++) {
        const uint8_t *s = BLAKE2B_SIGMA[round % 10];
        BLAKE2B_G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
        BLAKE2B_G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
        BLAKE2B_G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
        BLAKE2B_G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
        BLAKE2B_G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
        BLAKE2B_G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
        BLAKE2B_G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
        BLAKE2B_G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

/* hashlib.blake2b(data, digest_size=8) read as a little-endian integer: the first word of
 * the state. */
static uint64_t
blake2b_64(const uint8_t *data, size_t len)
{
    uint64_t h[8];
    memcpy(h, BLAKE2B_IV, sizeof h);
    h[0] ^= 0x01010000ULL | 8; /* parameters: depth 1, fanout 1, no key, 8-byte digest */
    size_t done = 0;
    for (; len - done > 128; done += 128)
        blake2b_compress(h, data + done, done + 128, 0);
    uint8_t last[128] = {0};
    if (len > done)
        memcpy(last, data + done, len - done);
    blake2b_compress(h, last, len, 1);
    return h[0];
}

/* --- the signature ----------------------------------------------------------------------- */

/* Accumulators of one pass over the shingles: sixty-four 32-bit minima are four AVX-512 or
 * eight AVX2 registers, enough independent multiplies to keep the multiplier busy. */
#define TILE 64

static inline __attribute__((always_inline)) void
signature_tile(const uint32_t *restrict a, uint32_t *restrict out, const uint32_t *restrict x,
               Py_ssize_t n, const Py_ssize_t width)
{
    uint32_t acc[TILE];
    memcpy(acc, out, (size_t)width * sizeof *acc);
    for (Py_ssize_t j = 0; j < n; j++) {
        const uint32_t xj = x[j];
        /* A constant trip count: the compiler keeps acc in registers and vectorises. */
        for (Py_ssize_t l = 0; l < width; l++) {
            uint32_t product = a[l] * xj;
            acc[l] = product < acc[l] ? product : acc[l];
        }
    }
    memcpy(out, acc, (size_t)width * sizeof *out);
}

/* out[i] = min(out[i], min_j a[i] * x[j] mod 2^32) for i < k. */
SIMD_CLONES static void
signature_update(const uint32_t *a, uint32_t *out, Py_ssize_t k, const uint32_t *x, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    for (; i + TILE <= k; i += TILE)
        signature_tile(a + i, out + i, x, n, TILE);
    for (; i + 16 <= k; i += 16)
        signature_tile(a + i, out + i, x, n, 16);
    for (; i < k; i++)
        signature_tile(a + i, out + i, x, n, 1);
}

/* The name of the clone the loader picks, in the order the clones are tried. */
static const char *
simd_target(void)
{
#ifdef MINHASH_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return "avx512f";
    if (__builtin_cpu_supports("avx2"))
        return "avx2";
    return "default";
#else
    return "portable";
#endif
}

/* --- buffers ------------------------------------------------------------------------------ */

/* A C-contiguous, aligned buffer of unsigned integers of `itemsize` bytes (numpy's uint32 or
 * uint64, array.array, bytes...). */
static int
get_array(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    const char *format = view->format ? view->format : "B";
    if (*format == '@' || *format == '=' || *format == '<')
        format++;
    int is_unsigned = format[0] && !format[1] && strchr("BHILQ", format[0]) != NULL;
    if (view->itemsize != itemsize || !is_unsigned ||
        (uintptr_t)view->buf % (uintptr_t)itemsize) {
        PyErr_Format(PyExc_ValueError, "%s must be an aligned array of %zd-byte unsigned integers",
                     name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* --- module functions ---------------------------------------------------------------------- */

PyDoc_STRVAR(signature_doc,
             "signature(x, a, out)\n--\n\n"
             "out[i] = min(out[i], min over j of a[i] * x[j] mod 2**32); uint32 arrays.");

static PyObject *
signature(PyObject *module, PyObject *args)
{
    PyObject *x_obj, *a_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOO:signature", &x_obj, &a_obj, &out_obj))
        return NULL;
    Py_buffer x, a, out;
    if (get_array(x_obj, &x, 4, 0, "x") < 0)
        return NULL;
    if (get_array(a_obj, &a, 4, 0, "a") < 0) {
        PyBuffer_Release(&x);
        return NULL;
    }
    if (get_array(out_obj, &out, 4, 1, "out") < 0) {
        PyBuffer_Release(&x);
        PyBuffer_Release(&a);
        return NULL;
    }
    PyObject *result = NULL;
    if (out.len != a.len) {
        PyErr_SetString(PyExc_ValueError, "out and a must have the same length");
    }
    else {
        /* Other threads of a Beam worker run while the kernel does. */
        Py_BEGIN_ALLOW_THREADS;
        signature_update(a.buf, out.buf, a.len / 4, x.buf, x.len / 4);
        Py_END_ALLOW_THREADS;
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&a);
    PyBuffer_Release(&out);
    return result;
}

/* The band hashes of one document's word hashes (words > 0), without the GIL. */
static int
document_band_hashes(const uint64_t *words, Py_ssize_t m, Py_ssize_t ngram, const uint32_t *a,
                     const uint64_t *positions, Py_ssize_t bands, Py_ssize_t rows,
                     uint64_t *hashes)
{
    Py_ssize_t k = bands * rows;
    /* Fewer words than n make one shingle of all of them (shingles.ngram_hashes). */
    Py_ssize_t width = m < ngram ? m : ngram;
    Py_ssize_t count = m - width + 1;
    uint32_t *x = PyMem_RawMalloc((size_t)count * sizeof *x);
    uint32_t *sig = PyMem_RawMalloc((size_t)k * sizeof *sig);
    if (!x || !sig) {
        PyMem_RawFree(x);
        PyMem_RawFree(sig);
        return -1;
    }
    /* MinHasher.hash_input of each n-gram hash. Repeated n-grams stay: a minimum does not
     * change when a value comes twice, so the reference's sort and dedup are not needed. */
    for (Py_ssize_t j = 0; j < count; j++)
        x[j] = (uint32_t)(combine_u64(words + j, width, positions) >> 32) | 1u;
    memset(sig, 0xFF, (size_t)k * sizeof *sig);
    signature_update(a, sig, k, x, count);
    for (Py_ssize_t b = 0; b < bands; b++)
        hashes[b] = band_hash(sig + b * rows, rows, positions);
    PyMem_RawFree(x);
    PyMem_RawFree(sig);
    return 0;
}

PyDoc_STRVAR(band_hashes_doc,
             "band_hashes(words, a, positions, ngram, bands, rows, out)\n--\n\n"
             "One document's band hashes (MinHasher.band_hashes of its signature) from its uint64\n"
             "word hashes, into the uint64 array out of length bands (zeros without words).");

static PyObject *
band_hashes_py(PyObject *module, PyObject *args)
{
    PyObject *words_obj, *a_obj, *positions_obj, *out_obj;
    Py_ssize_t ngram, bands, rows;
    if (!PyArg_ParseTuple(args, "OOOnnnO:band_hashes", &words_obj, &a_obj, &positions_obj,
                          &ngram, &bands, &rows, &out_obj))
        return NULL;
    Py_buffer words, a, positions, out;
    if (get_array(words_obj, &words, 8, 0, "words") < 0)
        return NULL;
    if (get_array(a_obj, &a, 4, 0, "a") < 0) {
        PyBuffer_Release(&words);
        return NULL;
    }
    if (get_array(positions_obj, &positions, 8, 0, "positions") < 0) {
        PyBuffer_Release(&words);
        PyBuffer_Release(&a);
        return NULL;
    }
    if (get_array(out_obj, &out, 8, 1, "out") < 0) {
        PyBuffer_Release(&words);
        PyBuffer_Release(&a);
        PyBuffer_Release(&positions);
        return NULL;
    }
    PyObject *result = NULL;
    Py_ssize_t m = words.len / 8, npos = positions.len / 8;
    /* The reference's limits: combine takes at most 16 values, so n-grams of at most 16 words
     * and bands of at most 16 x 16 rows. */
    if (npos < 16 || ngram < 1 || ngram > 16 || rows < 1 || rows > 256 || bands < 1 ||
        a.len / 4 % rows || a.len / 4 / rows != bands || out.len / 8 != bands) {
        PyErr_SetString(PyExc_ValueError, "parameters outside the compiled path's limits");
        goto done;
    }
    if (m == 0) {  /* no shingles: no band (the caller knows from the word count) */
        memset(out.buf, 0, (size_t)out.len);
        result = Py_NewRef(Py_None);
        goto done;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS;
    failed = document_band_hashes(words.buf, m, ngram, a.buf, positions.buf, bands, rows, out.buf);
    Py_END_ALLOW_THREADS;
    if (failed)
        PyErr_NoMemory();
    else
        result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&words);
    PyBuffer_Release(&a);
    PyBuffer_Release(&positions);
    PyBuffer_Release(&out);
    return result;
}

PyDoc_STRVAR(blake2b_64_doc,
             "blake2b_64(data)\n--\n\n"
             "int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), 'little').");

static PyObject *
blake2b_64_py(PyObject *module, PyObject *arg)
{
    Py_buffer data;
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0)
        return NULL;
    uint64_t hash = blake2b_64(data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLongLong(hash);
}

PyDoc_STRVAR(simd_doc, "simd()\n--\n\nThe instruction set the signature loop runs with.");

static PyObject *
simd(PyObject *module, PyObject *unused)
{
    return PyUnicode_FromString(simd_target());
}

/* --- the token cache: raw token -> hashes of its normalised words ------------------------- */

/* shingles.word_hashes normalises each distinct whitespace-separated token once and looks the
 * text up token by token. Here the table is C: tokens are keyed by their code points, so a
 * known token costs a hash and a compare, with no Python object made. New tokens are
 * normalised here too, through shingles.fold_table: fold of each character of the BMP alone,
 * for the characters where that is exactly their part of fold of any token (its docstring
 * says why); a token holding any other character goes back to the caller, which normalises
 * it with fold itself and adds it.
 *
 * Layout: open addressing over 8-byte slots, and one arena of 32-bit words holding each entry
 * as [length][word count][code points...][word hashes, two 32-bit halves each...]. The key and
 * its values side by side: a lookup touches one slot and one entry, both usually one cache
 * line. */

typedef struct {
    uint32_t tag;   /* the high half of the token's hash */
    uint32_t entry; /* where its entry starts in the arena; 0: a free slot */
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t capacity; /* a power of 2, at least twice `used` */
    size_t used;
    uint32_t *arena; /* arena[0] is unused, so that entry 0 can mean "free" */
    size_t arena_len, arena_cap;
    Py_buffer fold_view, unspaced_view; /* held for the two tables below */
    const uint64_t *fold;     /* per BMP character: up to 3 code points + 1, 21 bits each */
    const uint8_t *unspaced;  /* bitset: characters split_words makes a word of their own */
} WordCache;

/* Scratch buffers of one normalisation, grown as needed. */
typedef struct {
    Py_UCS4 *folded;
    uint64_t *hashes;
    uint8_t *utf8;
    size_t folded_cap, hashes_cap, utf8_cap;
} Scratch;

#define FOLD_CHARS 0x10000
#define NOT_FOLDED (1ULL << 63) /* in the fold table: left to the caller */
#define INITIAL_SLOTS 1024
#define ENTRY_HEADER 2

/* The table's hash of a token: FNV-1a over its code points, then mixed. */
#define TOKEN_HASH_SEED 0xCBF29CE484222325ULL

static inline uint64_t
token_hash_step(uint64_t h, Py_UCS4 c)
{
    return (h ^ c) * 0x100000001B3ULL;
}

static inline uint64_t
token_hash_end(uint64_t h, Py_ssize_t len)
{
    return mix64(h ^ (uint64_t)len);
}

static uint64_t
token_hash(int kind, const void *data, Py_ssize_t len)
{
    uint64_t h = TOKEN_HASH_SEED;
    for (Py_ssize_t i = 0; i < len; i++)
        h = token_hash_step(h, PyUnicode_READ(kind, data, i));
    return token_hash_end(h, len);
}

/* The entry of the token data[start, start + len), or 0 and the free slot where it belongs. */
static uint32_t
find_entry(const WordCache *self, uint64_t hash, int kind, const void *data, Py_ssize_t start,
           Py_ssize_t len, size_t *free_slot)
{
    uint32_t tag = (uint32_t)(hash >> 32);
    size_t mask = self->capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const Slot *slot = &self->slots[i];
        if (!slot->entry) {
            *free_slot = i;
            return 0;
        }
        const uint32_t *entry = self->arena + slot->entry;
        if (slot->tag != tag || entry[0] != (uint32_t)len)
            continue;
        const uint32_t *key = entry + ENTRY_HEADER;
        Py_ssize_t j = 0;
        while (j < len && key[j] == PyUnicode_READ(kind, data, start + j))
            j++;
        if (j == len)
            return slot->entry;
    }
}

/* Grow `*buffer` (of `item` bytes per element) to hold at least `need` elements. */
static int
reserve(void **buffer, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap)
        return 0;
    size_t cap_new = *cap ? *cap : 1024;
    while (cap_new < need)
        cap_new *= 2;
    void *grown = PyMem_Realloc(*buffer, cap_new * item);
    if (!grown) {
        PyErr_NoMemory();
        return -1;
    }
    *buffer = grown;
    *cap = cap_new;
    return 0;
}

/* Double the table, keeping every entry (each one's hash recomputed from its code points). */
static int
grow_slots(WordCache *self)
{
    size_t capacity = self->capacity * 2, mask = capacity - 1;
    Slot *slots = PyMem_Calloc(capacity, sizeof *slots);
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < self->capacity; i++) {
        Slot slot = self->slots[i];
        if (!slot.entry)
            continue;
        const uint32_t *entry = self->arena + slot.entry;
        size_t j = token_hash(PyUnicode_4BYTE_KIND, entry + ENTRY_HEADER, entry[0]) & mask;
        while (slots[j].entry)
            j = (j + 1) & mask;
        slots[j] = slot;
    }
    PyMem_Free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

/* Add a token that find_entry did not find, with the hashes of its words. */
static int
insert(WordCache *self, uint64_t hash, int kind, const void *data, Py_ssize_t start,
       Py_ssize_t len, const uint64_t *hashes, size_t count)
{
    size_t size = ENTRY_HEADER + (size_t)len + 2 * count;
    if ((uint64_t)self->arena_len + size > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "token cache full: clear() it");
        return -1;
    }
    if (reserve((void **)&self->arena, &self->arena_cap, self->arena_len + size,
                sizeof *self->arena) < 0)
        return -1;
    if ((self->used + 1) * 2 > self->capacity && grow_slots(self) < 0)
        return -1;
    size_t free_slot;
    find_entry(self, hash, kind, data, start, len, &free_slot);
    uint32_t *entry = self->arena + self->arena_len;
    entry[0] = (uint32_t)len;
    entry[1] = (uint32_t)count;
    for (Py_ssize_t i = 0; i < len; i++)
        entry[ENTRY_HEADER + i] = PyUnicode_READ(kind, data, start + i);
    if (count) /* a token of punctuation only has no words, and maybe no buffer */
        memcpy(entry + ENTRY_HEADER + len, hashes, count * sizeof *hashes);
    self->slots[free_slot].tag = (uint32_t)(hash >> 32);
    self->slots[free_slot].entry = (uint32_t)self->arena_len;
    self->arena_len += size;
    self->used++;
    return 0;
}

static inline int
is_unspaced(const WordCache *self, Py_UCS4 c)
{
    return c < FOLD_CHARS && (self->unspaced[c >> 3] >> (c & 7)) & 1;
}

/* c as UTF-8 at out (c is never a surrogate: the fold table leaves those to the caller). */
static inline size_t
utf8_encode(Py_UCS4 c, uint8_t *out)
{
    if (c < 0x80) {
        out[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (uint8_t)(0xC0 | c >> 6);
        out[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (uint8_t)(0xE0 | c >> 12);
        out[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | c >> 18);
    out[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

/* The word hashes of a token into scratch->hashes, normalised through the fold table: fold each
 * character, split the result as split_words does (on whitespace, and around each character of
 * a script written without spaces), hash the UTF-8 of each word. Returns the number of words,
 * or -1 (no error set) when the table leaves a character to the caller. */
static Py_ssize_t
fold_words(const WordCache *self, int kind, const void *data, Py_ssize_t start, Py_ssize_t len,
           Scratch *scratch)
{
    /* Each character folds to at most 3, each of at most 4 bytes; each is at most one word. */
    size_t most = 3 * (size_t)len;
    if (reserve((void **)&scratch->folded, &scratch->folded_cap, most, sizeof(Py_UCS4)) < 0 ||
        reserve((void **)&scratch->hashes, &scratch->hashes_cap, most, sizeof(uint64_t)) < 0 ||
        reserve((void **)&scratch->utf8, &scratch->utf8_cap, 4 * most, 1) < 0)
        return -2;
    Py_UCS4 *folded = scratch->folded;
    size_t n = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, start + i);
        uint64_t entry = c < FOLD_CHARS ? self->fold[c] : NOT_FOLDED;
        if (entry & NOT_FOLDED)
            return -1;
        for (; entry; entry >>= 21)
            folded[n++] = (Py_UCS4)(entry & 0x1FFFFF) - 1;
    }
    Py_ssize_t count = 0;
    for (size_t i = 0; i < n;) {
        if (Py_UNICODE_ISSPACE(folded[i])) {
            i++;
            continue;
        }
        size_t bytes = 0;
        if (is_unspaced(self, folded[i])) {
            bytes = utf8_encode(folded[i++], scratch->utf8);
        }
        else {
            while (i < n && !Py_UNICODE_ISSPACE(folded[i]) && !is_unspaced(self, folded[i]))
                bytes += utf8_encode(folded[i++], scratch->utf8 + bytes);
        }
        scratch->hashes[count++] = blake2b_64(scratch->utf8, bytes);
    }
    return count;
}

/* Forget every entry; the memory stays for the entries to come. */
static void
reset(WordCache *self)
{
    memset(self->slots, 0, self->capacity * sizeof *self->slots);
    self->used = 0;
    self->arena_len = 1;
}

static void
WordCache_dealloc(WordCache *self)
{
    PyMem_Free(self->slots);
    PyMem_Free(self->arena);
    if (self->fold) {
        PyBuffer_Release(&self->fold_view);
        PyBuffer_Release(&self->unspaced_view);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
WordCache_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"fold", "unspaced", NULL};
    PyObject *fold_obj, *unspaced_obj;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:WordCache", names, &fold_obj,
                                     &unspaced_obj))
        return NULL;
    WordCache *self = (WordCache *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    if (get_array(fold_obj, &self->fold_view, 8, 0, "fold") < 0)
        goto fail;
    if (get_array(unspaced_obj, &self->unspaced_view, 1, 0, "unspaced") < 0) {
        PyBuffer_Release(&self->fold_view);
        goto fail;
    }
    self->fold = self->fold_view.buf;
    self->unspaced = self->unspaced_view.buf;
    if (self->fold_view.len != FOLD_CHARS * 8 || self->unspaced_view.len != FOLD_CHARS / 8) {
        PyErr_SetString(PyExc_ValueError, "fold must have 65536 entries, unspaced 65536 bits");
        goto fail;
    }
    self->capacity = INITIAL_SLOTS;
    self->slots = PyMem_Calloc(self->capacity, sizeof *self->slots);
    if (!self->slots || reserve((void **)&self->arena, &self->arena_cap, 1, 4) < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    reset(self);
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

PyDoc_STRVAR(WordCache_words_doc,
             "words(text)\n--\n\n"
             "The uint64 hashes of the normalised words of text as bytes (shingles.word_hashes),\n"
             "or the list of its tokens to normalise and add() first.");

static PyObject *
WordCache_words(WordCache *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    uint64_t *out = NULL;
    size_t out_len = 0, out_cap = 0;
    Scratch scratch = {0};
    PyObject *missing = NULL, *result = NULL;
    Py_ssize_t i = 0;
    for (;;) {
        while (i < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
            i++;
        if (i == n)
            break;
        Py_ssize_t start = i;
        uint64_t hash = TOKEN_HASH_SEED;
        for (; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (Py_UNICODE_ISSPACE(c))
                break;
            hash = token_hash_step(hash, c);
        }
        Py_ssize_t len = i - start;
        if (len > (Py_ssize_t)(UINT32_MAX / 2)) {
            PyErr_SetString(PyExc_OverflowError, "token too long for the cache");
            goto done;
        }
        hash = token_hash_end(hash, len);
        size_t free_slot;
        uint32_t found = find_entry(self, hash, kind, data, start, len, &free_slot);
        const void *words;
        Py_ssize_t count;
        if (found) {
            count = self->arena[found + 1];
            words = self->arena + found + ENTRY_HEADER + len;
        }
        else if ((count = fold_words(self, kind, data, start, len, &scratch)) >= 0) {
            if (insert(self, hash, kind, data, start, len, scratch.hashes, (size_t)count) < 0)
                goto done;
            words = scratch.hashes;
        }
        else if (count == -2) {
            goto done;
        }
        else {
            /* Normalised by the caller; keep looking for others, so one round trip does. */
            PyObject *token = PyUnicode_Substring(text, start, i);
            if (!token || (!missing && !(missing = PyList_New(0))) ||
                PyList_Append(missing, token) < 0) {
                Py_XDECREF(token);
                goto done;
            }
            Py_DECREF(token);
            continue;
        }
        if (missing || !count)
            continue;
        if (reserve((void **)&out, &out_cap, out_len + (size_t)count, sizeof *out) < 0)
            goto done;
        memcpy(out + out_len, words, (size_t)count * sizeof *out);
        out_len += (size_t)count;
    }
    if (missing)
        result = Py_NewRef(missing);
    else
        result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)(out_len * sizeof *out));
done:
    Py_XDECREF(missing);
    PyMem_Free(out);
    PyMem_Free(scratch.folded);
    PyMem_Free(scratch.hashes);
    PyMem_Free(scratch.utf8);
    return result;
}

PyDoc_STRVAR(WordCache_add_doc,
             "add(tokens, words_of)\n--\n\n"
             "Cache each token with the hashes of its normalised words (a list of str).");

static PyObject *
WordCache_add(WordCache *self, PyObject *args)
{
    PyObject *tokens_obj, *words_obj;
    if (!PyArg_ParseTuple(args, "OO:add", &tokens_obj, &words_obj))
        return NULL;
    PyObject *tokens = PySequence_Fast(tokens_obj, "tokens must be a sequence");
    PyObject *words_of = tokens ? PySequence_Fast(words_obj, "words_of must be a sequence") : NULL;
    PyObject *result = NULL;
    uint64_t *hashes = NULL;
    size_t hashes_cap = 0;
    if (!words_of)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(tokens);
    if (PySequence_Fast_GET_SIZE(words_of) != n) {
        PyErr_SetString(PyExc_ValueError, "tokens and words_of differ in length");
        goto done;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *token = PySequence_Fast_GET_ITEM(tokens, t);
        if (!PyUnicode_Check(token) || !PyUnicode_GET_LENGTH(token) ||
            PyUnicode_GET_LENGTH(token) > (Py_ssize_t)(UINT32_MAX / 2)) {
            PyErr_SetString(PyExc_ValueError, "tokens must be non-empty str");
            goto done;
        }
        PyObject *words = PySequence_Fast(PySequence_Fast_GET_ITEM(words_of, t),
                                          "words_of must hold sequences of str");
        if (!words)
            goto done;
        Py_ssize_t count = PySequence_Fast_GET_SIZE(words);
        int failed = reserve((void **)&hashes, &hashes_cap, (size_t)count, sizeof *hashes);
        for (Py_ssize_t w = 0; !failed && w < count; w++) {
            Py_ssize_t size;
            /* UTF-8, as word_hash encodes; a lone surrogate raises, as it does there. */
            const char *utf8 = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(words, w), &size);
            if (!utf8)
                failed = 1;
            else
                hashes[w] = blake2b_64((const uint8_t *)utf8, (size_t)size);
        }
        Py_DECREF(words);
        if (failed)
            goto done;
        int kind = PyUnicode_KIND(token);
        const void *data = PyUnicode_DATA(token);
        Py_ssize_t len = PyUnicode_GET_LENGTH(token);
        uint64_t hash = token_hash(kind, data, len);
        size_t free_slot;
        if (!find_entry(self, hash, kind, data, 0, len, &free_slot) &&
            insert(self, hash, kind, data, 0, len, hashes, (size_t)count) < 0)
            goto done;
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(tokens);
    Py_XDECREF(words_of);
    PyMem_Free(hashes);
    return result;
}

PyDoc_STRVAR(WordCache_clear_doc, "clear()\n--\n\nForget every token (the memory is kept).");

static PyObject *
WordCache_clear(WordCache *self, PyObject *unused)
{
    reset(self);
    Py_RETURN_NONE;
}

static Py_ssize_t
WordCache_len(WordCache *self)
{
    return (Py_ssize_t)self->used;
}

static PyMethodDef WordCache_methods[] = {
    {"words", (PyCFunction)WordCache_words, METH_O, WordCache_words_doc},
    {"add", (PyCFunction)WordCache_add, METH_VARARGS, WordCache_add_doc},
    {"clear", (PyCFunction)WordCache_clear, METH_NOARGS, WordCache_clear_doc},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods WordCache_as_sequence = {
    .sq_length = (lenfunc)WordCache_len,
};

static PyTypeObject WordCacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dedup._minhash.WordCache",
    .tp_doc = PyDoc_STR("WordCache(fold, unspaced)\n--\n\n"
                        "Raw token -> hashes of its normalised words; the two tables are\n"
                        "shingles.fold_table()."),
    .tp_basicsize = sizeof(WordCache),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = WordCache_new,
    .tp_dealloc = (destructor)WordCache_dealloc,
    .tp_methods = WordCache_methods,
    .tp_as_sequence = &WordCache_as_sequence,
};

static PyMethodDef methods[] = {
    {"signature", signature, METH_VARARGS, signature_doc},
    {"band_hashes", band_hashes_py, METH_VARARGS, band_hashes_doc},
    {"blake2b_64", blake2b_64_py, METH_O, blake2b_64_doc},
    {"simd", simd, METH_NOARGS, simd_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *module)
{
    if (PyType_Ready(&WordCacheType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "WordCache", (PyObject *)&WordCacheType);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "dedup._minhash",
    .m_doc = "Compiled MinHash band keys and word hashes, bit-identical to the numpy reference.",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__minhash(void)
{
    return PyModuleDef_Init(&module_def);
}
