/*
 * lzf.h — the LZF compressed format (Marc Lehmann's liblzf), which Redis
 * uses for long strings in RDB files and DUMP payloads.
 *
 * The compressed stream is a sequence of items, each starting with a
 * control byte c:
 *   c < 32         a literal run: the next c + 1 bytes are copied as is;
 *   c >= 32        a back reference: length field L = c >> 5, and if L == 7
 *                  one more byte is added to it; then one byte b: the
 *                  L + 2 bytes found ((c & 31) << 8 | b) + 1 bytes behind
 *                  the output position are copied (they may overlap it).
 * The compressor reproduces liblzf 3.6's output byte for byte as Redis
 * builds it (16-bit hash table, "very fast" mode), so that DUMP payloads
 * of long strings are identical to redis-server's.
 */
#ifndef RC_LZF_H
#define RC_LZF_H

#include <stddef.h>

/* Compresses in[0..in_len) into out[0..out_len).  Returns the compressed
 * size, or 0 when the result would not fit in out_len bytes (or in_len is
 * 0); then out's contents are unspecified.  No allocation. */
size_t lzf_compress(const void *in, size_t in_len, void *out, size_t out_len);

/* Decompresses in[0..in_len) into out[0..out_len).  Returns the
 * decompressed size, or 0 when the input is malformed (truncated item,
 * reference before the start of the output) or the output would exceed
 * out_len.  Never reads or writes outside the given buffers. */
size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
