/* Compiled MinHash for dedup/minhash.py: a document's band keys from its word hashes, and the
 * word hashes of a text through a token cache.
 *
 * Every value equals the numpy reference in dedup/minhash.py and dedup/shingles.py bit for bit
 * (tests/dedup/test_minhash_compiled.py): the same blake2b word hashes, n-gram and band
 * combining, mix64, and hash family h_i(x) = a_i * x mod 2^32. What changes is where the work
 * happens. The reference writes every product a_i * x of a (shingles x hashes) block to memory
 * and reads it back to take the minimum; here the products stay in SIMD registers. And the
 * reference keeps its token cache in Python objects; here it is a C table, so a known token
 * costs a hash and a compare.
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

/* Key bytes: the band index as 2 bytes and its hash as 8, both big-endian (band_key_bytes). */
#define KEY_BYTES 10

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

PyDoc_STRVAR(band_keys_doc,
             "band_keys(words, a, positions, ngram, bands, rows)\n--\n\n"
             "One document's band keys (MinHasher.band_keys) from its uint64 word hashes.");

static PyObject *
band_keys(PyObject *module, PyObject *args)
{
    PyObject *words_obj, *a_obj, *positions_obj;
    Py_ssize_t ngram, bands, rows;
    if (!PyArg_ParseTuple(args, "OOOnnn:band_keys", &words_obj, &a_obj, &positions_obj, &ngram,
                          &bands, &rows))
        return NULL;
    Py_buffer words, a, positions;
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
    PyObject *result = NULL;
    Py_ssize_t m = words.len / 8, npos = positions.len / 8;
    /* The reference's limits: combine takes at most 16 values, so n-grams of at most 16 words
     * and bands of at most 16 x 16 rows. (Band indices past 65535 wrap, as the reference's.) */
    if (npos < 16 || ngram < 1 || ngram > 16 || rows < 1 || rows > 256 || bands < 1 ||
        a.len / 4 != bands * rows) {
        PyErr_SetString(PyExc_ValueError, "parameters outside the compiled path's limits");
        goto done;
    }
    if (m == 0) {  /* no shingles, no keys: empty texts never collide */
        result = PyList_New(0);
        goto done;
    }
    uint64_t *hashes = PyMem_RawMalloc((size_t)bands * sizeof *hashes);
    if (!hashes) {
        PyErr_NoMemory();
        goto done;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS;
    failed = document_band_hashes(words.buf, m, ngram, a.buf, positions.buf, bands, rows, hashes);
    Py_END_ALLOW_THREADS;
    if (failed) {
        PyErr_NoMemory();
    }
    else if ((result = PyList_New(bands)) != NULL) {
        for (Py_ssize_t b = 0; b < bands; b++) {
            unsigned char key[KEY_BYTES];
            key[0] = (unsigned char)(b >> 8);
            key[1] = (unsigned char)b;
            for (int i = 0; i < 8; i++)
                key[2 + i] = (unsigned char)(hashes[b] >> (56 - 8 * i));
            PyObject *item = PyBytes_FromStringAndSize((const char *)key, KEY_BYTES);
            if (!item) {
                Py_CLEAR(result);
                break;
            }
            PyList_SET_ITEM(result, b, item);
        }
    }
    PyMem_RawFree(hashes);
done:
    PyBuffer_Release(&words);
    PyBuffer_Release(&a);
    PyBuffer_Release(&positions);
    return result;
}

PyDoc_STRVAR(simd_doc, "simd()\n--\n\nThe instruction set the signature loop runs with.");

static PyObject *
simd(PyObject *module, PyObject *unused)
{
    return PyUnicode_FromString(simd_target());
}

static PyMethodDef methods[] = {
    {"signature", signature, METH_VARARGS, signature_doc},
    {"band_keys", band_keys, METH_VARARGS, band_keys_doc},
    {"simd", simd, METH_NOARGS, simd_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "dedup._minhash",
    .m_doc = "Compiled MinHash band keys, bit-identical to the numpy reference.",
    .m_size = 0,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__minhash(void)
{
    return PyModuleDef_Init(&module_def);
}
