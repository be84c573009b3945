/*
 * check_glob.c — unit tests for glob.c.
 *
 * The tables were produced by asking a real redis-server 7.0.15: for the
 * case-sensitive table, KEYS <pattern> on a database holding only the
 * subject key; for the case-insensitive table, COMMAND LIST FILTERBY
 * PATTERN, which matches command names with nocase set.  The hand-written
 * edge cases come first; the rest were picked from a few hundred thousand
 * random (pattern, key) pairs over an alphabet rich in glob syntax, all of
 * which agreed with rc_glob_match when the tables were made.
 */
#include "glob.h"
#include "mem.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct glob_case {
    const char *pat;
    size_t patlen;
    const char *str;
    size_t strlen;
    int match;
};

/* Case-sensitive cases: expected answers from redis-server's KEYS. */
static const struct glob_case cs_cases[] = {
    {"", 0, "", 0, 1},
    {"*", 1, "x", 1, 1},
    {"**", 2, "", 0, 0},
    {"a", 1, "", 0, 0},
    {"", 0, "a", 1, 0},
    {"?", 1, "", 0, 0},
    {"h?llo", 5, "hello", 5, 1},
    {"h*llo", 5, "heeeello", 8, 1},
    {"h[ae]llo", 8, "hallo", 5, 1},
    {"h[ae]llo", 8, "hillo", 5, 0},
    {"h[^e]llo", 8, "hallo", 5, 1},
    {"h[^e]llo", 8, "hello", 5, 0},
    {"h[a-b]llo", 9, "hbllo", 5, 1},
    {"h[b-a]llo", 9, "hallo", 5, 1},
    {"[", 1, "[", 1, 0},
    {"[", 1, "a", 1, 0},
    {"[^", 2, "a", 1, 1},
    {"a[^", 3, "ab", 2, 1},
    {"[a", 2, "a", 1, 1},
    {"[a-", 3, "a", 1, 1},
    {"[a-]", 4, "]", 1, 1},
    {"[a-]", 4, "_", 1, 1},
    {"[a-]]", 5, "_]", 2, 0},
    {"\\", 1, "\\", 1, 1},
    {"a\\", 2, "a\\", 2, 1},
    {"\\*", 2, "*", 1, 1},
    {"\\*", 2, "a", 1, 0},
    {"[\\]]", 4, "]", 1, 1},
    {"[\\", 2, "\\", 1, 1},
    {"[\\", 2, "a", 1, 0},
    {"[]]", 3, "]", 1, 0},
    {"[]", 2, "]", 1, 0},
    {"[]a]", 4, "a", 1, 0},
    {"[!a]", 4, "b", 1, 0},
    {"*a*b", 4, "xaxb", 4, 1},
    {"*a*b", 4, "xaxbx", 5, 0},
    {"a*", 2, "a", 1, 1},
    {"a**", 3, "abc", 3, 1},
    {"*?", 2, "a", 1, 1},
    {"*?", 2, "", 0, 0},
    {"?*", 2, "ab", 2, 1},
    {"[a-z]*", 6, "Zed", 3, 0},
    {"[\351-a]", 5, "\377", 1, 1},
    {"[\351-a]", 5, "b", 1, 0},
    {"[\351-a]", 5, "\000", 1, 1},
    {"[a-\351]", 5, "\360", 1, 1},
    {"\000", 1, "\000", 1, 1},
    {"a\000b", 3, "a\000b", 3, 1},
    {"*\000*", 3, "x\000y", 3, 1},
    {"[^\000]", 4, "\000", 1, 0},
    {"foo*bar?baz", 11, "foo12barXbaz", 12, 1},
    {"*[*]*", 5, "a*b", 3, 1},
    {"*\\?", 3, "ab?", 3, 1},
    {"*\\?", 3, "abc", 3, 0},
    {"*[*azb", 6, "[B\000*", 4, 1},
    {"*?*", 3, "?\\[\000b", 5, 1},
    {"*[z*ba[", 7, "`\351\000a^-a", 7, 1},
    {"[A-a*A", 6, "`", 1, 1},
    {"z[\351\\]-[", 7, "z]", 2, 1},
    {"?**", 3, "zA\000", 3, 1},
    {"[\\\000A\\*z\000", 8, "*", 1, 1},
    {"*a?*", 4, "ab-\351*b-a", 8, 1},
    {"?***", 4, "]\\*-^\351A`", 8, 1},
    {"*[\351\000\000*z", 7, "]*-b-`\351", 7, 1},
    {"*a]*[b*^\000\000a", 11, "a]^`\000", 5, 1},
    {"?***", 4, "z*-[\\", 5, 1},
    {"*[-b^\351", 6, "\\aa]?-", 6, 1},
    {"[aa\351az?aa\351", 10, "?", 1, 1},
    {"*[bz-***", 8, "Aa", 2, 1},
    {"]*?", 3, "]\351]B\351]", 6, 1},
    {"*??", 3, "\351Az`B", 5, 1},
    {"*[\351^?\\a", 7, "A-a", 3, 1},
    {"**?", 3, "a\\^bb", 5, 1},
    {"*A?", 3, "\\[-AAB", 6, 1},
    {"*?a", 3, "^\\a", 3, 1},
    {"[a*\\b^", 6, "b", 1, 1},
    {"*[\\^\\*", 6, "z^A\351-^A^", 8, 1},
    {"?*?**", 5, "]a*\\z", 5, 1},
    {"**A?*", 5, "A]\351bb`\000", 7, 1},
    {"*[**zA^", 7, "Bz]**z", 6, 1},
    {"[--*z\351-\000", 8, "z", 1, 1},
    {"[b^\351a\\", 6, "b", 1, 1},
    {"**[^\000", 5, "a`", 2, 1},
    {"[a-", 3, "a", 1, 1},
    {"**?", 3, "^`-", 3, 1},
    {"**?", 3, "b\\z`", 4, 1},
    {"]?a", 3, "]\351a", 3, 1},
    {"\351[-^b?\000\351-a\\\000", 12, "\351a", 2, 1},
    {"**[^\000", 5, "*`a\\\000\351\\", 7, 1},
    {"**[^\000", 5, "]]", 2, 1},
    {"**?", 3, "]a`", 3, 1},
    {"**[^\000", 5, "\351-", 2, 1},
    {"?***", 4, "`\351za", 4, 1},
    {"*z?*", 4, "baBz?", 5, 1},
    {"*[bz-***", 8, "````\000b", 6, 1},
    {"*?*", 3, "*\\\351", 3, 1},
    {"*??", 3, "^b", 2, 1},
    {"**?", 3, "\000a*-*\\BB", 8, 1},
    {"*[ab\000\351aA", 8, "-\000-z-ab", 7, 1},
    {"[[*a-z*A?[^A", 12, "*", 1, 1},
    {"b[\000*\000a\\", 7, "ba", 2, 1},
    {"*[\351\000[^*\000\\\000A?b?", 14, "z^a\351`\000[*", 8, 1},
    {"\\]*", 3, "]b", 2, 1},
    {"*\\a", 3, "b*\351a", 4, 1},
    {"?[*\000", 4, "\\*", 2, 1},
    {"*\\A", 3, "BA", 2, 1},
    {"*[-\000zbb\351", 8, "z[^\351*ab", 7, 1},
    {"*?*", 3, "^]]a", 4, 1},
    {"*[-\000zbb\351", 8, "a-Ba[\351", 6, 1},
    {"*[b\000-]b^\000-*\\*", 13, "^[", 2, 1},
    {"*\\*", 3, "\000B\351[`^*", 7, 1},
    {"**\\", 3, "Aza\\", 4, 1},
    {"*[b\000-]b^\000-*\\*", 13, "\000-B*", 4, 1},
    {"[a-A", 4, "B", 1, 1},
    {"**?", 3, "?", 1, 1},
    {"?**", 3, "[a[a?b^b", 8, 1},
    {"[^a*b", 5, "?", 1, 1},
    {"*[bz-***", 8, "`**", 3, 1},
    {"*?*", 3, "aa\\`*\351", 6, 1},
    {"*??", 3, "[\351Ba", 4, 1},
    {"*[bz-***", 8, "-*B*", 4, 1},
    {"[\000\351\\", 4, "\\", 1, 1},
    {"A[*z", 4, "Az", 2, 1},
    {"?***", 4, "][", 2, 1},
    {"a?z*", 4, "aBz^a]", 6, 1},
    {"?*?**", 5, "az\000A]a", 6, 1},
    {"?**", 3, "\000[[B", 4, 1},
    {"**?", 3, "]AAb\\*\351", 7, 1},
    {"**[^\000", 5, "*\351]a", 4, 1},
    {"[[\351bbb--", 8, "?", 1, 1},
    {"?*[^za*aaaz", 11, "[a-?`B\351", 7, 1},
    {"**[*^^bA", 8, "^b`*", 4, 1},
    {"*[*[*AAb[A*", 11, "?]\\*", 4, 1},
    {"*[b?aAA?*?zbA", 13, "]?b", 3, 1},
    {"*?*", 3, "A\351z-", 4, 1},
    {"*[*azb", 6, "\000BAzz", 5, 1},
    {"**[*^^bA", 8, "bz\\^[?*b", 8, 1},
    {"*a?*", 4, "zzaB-", 5, 1},
    {"*\\*", 3, "\\A\000*\\**", 7, 1},
    {"[[b^\351a\351?\351^?*", 12, "a", 1, 1},
    {"[?a^baA\351", 8, "A", 1, 1},
    {"^?*", 3, "^B\\\000`^b", 7, 1},
    {"?\000*?", 4, "a\000*?b^", 6, 1},
    {"**[^\000", 5, "]a*`]\000]`", 8, 1},
    {"*[*[*AAb[A*", 11, "\000*", 2, 1},
    {"*[b?aAA?*?zbA", 13, "?\\z", 3, 1},
    {"*?*", 3, "`\351b", 3, 1},
    {"*[ab\000\351aA", 8, "a", 1, 1},
    {"[**z\\a[b^^", 10, "*", 1, 1},
    {"?[*\000", 4, "\351*", 2, 1},
    {"[zA[\351zA*", 8, "*", 1, 1},
    {"[?a*-z\000-a\351A[*", 13, "\000", 1, 1},
    {"[\\]z*A\351[\351\351*z", 12, "z", 1, 1},
    {"*[-\000zbb\351", 8, "[?\000z", 4, 1},
    {"**?", 3, "A*BA", 4, 1},
    {"*[*ba*\000?", 8, "?b?`[zb", 7, 1},
    {"[*a", 3, "a", 1, 1},
    {"*[-\000zbb\351", 8, "B^`b", 4, 1},
    {"*[b\000-]b^\000-*\\*", 13, "B\\\351b\\", 5, 1},
    {"*\\*?", 4, "Bz[A*-", 6, 1},
    {"?**", 3, "*a*b*bA\000", 8, 1},
    {"?**\351", 4, "\\^]b]z\\\351", 8, 1},
    {"*??", 3, "]]^a-b-", 7, 1},
    {"*[z*ba[", 7, "\\\000-a", 4, 1},
    {"?*[^za*aaaz", 11, "^ABAaB", 6, 1},
    {"*[*[*AAb[A*", 11, "aa[", 3, 1},
    {"[-\351\000[*\000aa", 9, "\351", 1, 1},
    {"[*ab*^?\\]", 9, "b", 1, 1},
    {"\\a*[\351a[", 7, "a\000\351za", 5, 1},
    {"*[ab\000\351aA", 8, "bB\000b^]a", 7, 1},
    {"?**", 3, "^^-a", 4, 1},
    {"*[z*ba[", 7, "*aA-a", 5, 1},
    {"*[[^*za-bb?^", 12, "B-^?`aa", 7, 1},
    {"*[\351\000[^*\000\\\000A?b?", 14, "A\351", 2, 1},
    {"**a?", 4, "\\B\351[`*aa", 8, 1},
    {"-**", 3, "-B]`\\]]`", 8, 1},
    {"*??", 3, "[^^a", 4, 1},
    {"[[^z-[", 6, "]", 1, 1},
    {"*[b\000-]b^\000-*\\*", 13, "`*z`B", 5, 1},
    {"*[\351^?\\a", 7, "A[\000][-b\351", 8, 1},
    {"***", 3, "\351?a*aa", 6, 1},
    {"*[-b^\351", 6, "\\aa]?-", 6, 1},
    {"*z?*", 4, "-zaB", 4, 1},
    {"[zzA[?[\\]\351ba\\", 13, "?", 1, 1},
    {"*[\351a-zz?", 8, "*AbBaA?a", 8, 1},
    {"?**", 3, "B[az", 4, 1},
    {"?a*", 3, "^aBaa", 5, 1},
    {"**?", 3, "ba", 2, 1},
    {"*[*ba*\000?", 8, "?b", 2, 1},
    {"*\\*", 3, "B\351`[A*", 6, 1},
    {"*[\351\000\000*z", 7, "\\bAz\351", 5, 1},
    {"*[-b^\351", 6, "b\351", 2, 1},
    {"?***", 4, "B", 1, 1},
    {"*\\*", 3, "*[zzb^a*", 8, 1},
    {"*?*", 3, "**B-\351?*", 7, 1},
    {"**[^\000", 5, "`*", 2, 1},
    {"*[*[*AAb[A*", 11, "*\000[", 3, 1},
    {"**b*", 4, "?ab", 3, 1},
    {"**?", 3, "^*A`-\000A", 7, 1},
    {"*[\351\000[^*\000\\\000A?b?", 14, "*", 1, 1},
    {"*^[*?*b\000z\\[b", 12, "?b?`z^b", 7, 1},
    {"[A-^?*?", 7, "]", 1, 1},
    {"***", 3, "\\", 1, 1},
    {"*[*azb", 6, "\000\351^?[`a", 7, 1},
    {"[^A[a", 5, "b", 1, 1},
    {"*a?*", 4, "zzaB-", 5, 1},
    {"?[^", 3, "]z", 2, 1},
    {"*?*", 3, "\351\351B\000*-a", 7, 1},
    {"\351**", 3, "\351bz", 3, 1},
    {"*a?*", 4, "a\\b]B`^a", 8, 1},
    {"*^*", 3, "b?^?b]", 6, 1},
    {"*?*", 3, "\\B`\351A^?", 7, 1},
    {"[?\351?", 4, "\351", 1, 1},
    {"?***", 4, "\351*\\\\\351?", 6, 1},
    {"*b^**\\za\000z*A", 12, "\351\351B\000*-a", 7, 0},
    {"^\\aa*A\000\\b*a-a", 13, "?`\\\\a\\\351]", 8, 0},
    {"zba\\z*?*", 8, "\351\351-\351Ab^", 7, 0},
    {"*ba[*\351?]\000a", 10, "*", 1, 0},
    {"a\\?", 3, "]-b*a", 5, 0},
    {"*\351b[\000", 5, "a\000z[", 4, 0},
    {"A[*z", 4, "B\000\\", 3, 0},
    {"[Aaz*a", 6, "^Bz\000^[[", 7, 0},
    {"\\[\351a-*^*\351z\000", 11, "-", 1, 0},
    {"^?]]\\?", 6, "?\351--\000-", 6, 0},
    {"A\\*[A]a", 7, "a\351", 2, 0},
    {"\\\\?z-\351*^]bbz*", 13, "`*A^\\\\[", 7, 0},
    {"\\*z[b", 5, "*-^za]]", 7, 0},
    {"][\000\\Aaza", 8, "b*\000a`?", 6, 0},
    {"^zA*\\\\**\\aa\000a", 13, "]]", 2, 0},
    {"\\a\351]^**", 7, "a*?\351a", 5, 0},
    {"??\351[A", 5, "B", 1, 0},
    {"\\[a\351]]\351*\\^a", 11, "aa`", 3, 0},
    {"ab\\A\000*-**bA?a?", 14, "[Aa-A", 5, 0},
    {"\000?\\]az", 6, "`*", 2, 0},
    {"]??b", 4, "]\000]", 3, 0},
    {"A\\", 2, "\351[Ba`[", 6, 0},
    {"\351a\000??zz?A*\351", 11, "a-", 2, 0},
    {"\000a[b\000a^", 7, "A?a", 3, 0},
    {"?**\000]]aa?]", 10, "\000]\\?z-B", 7, 0},
    {"\351??[\000-a]^", 9, "]``?Ba", 6, 0},
    {"*a^^?z*\351\000z*", 11, "[\000?B*a*", 7, 0},
    {"-\\aa--?", 7, "A`a-B-a", 7, 0},
    {"\\azaaz\\", 7, "-?", 2, 0},
    {"zA?-[-za", 8, "-^\\\000-]za", 8, 0},
    {"?^a-*aa", 7, "A\351a", 3, 0},
    {"]*\351*[", 5, "]B`A", 4, 0},
    {"-*[AaA[", 7, "AB", 2, 0},
    {"b?\000b\\\351a**--", 11, "\000\351\\]", 4, 0},
    {"^]A]\351abAz\351?*?", 13, "baz`", 4, 0},
    {"[--*z\351-\000", 8, "*B*-]", 5, 0},
    {"\000-\\]-", 5, "\351*", 2, 0},
    {"\\*-\\-", 5, "ab\351a", 4, 0},
    {"\\^*\\\000*bb-*Abz*", 14, "z", 1, 0},
    {"\\*\351-?", 5, "B", 1, 0},
    {"\\[", 2, "za", 2, 0},
    {"^--*[^\000]a", 9, "\000a\\[\351\351a", 7, 0},
    {"a*\351?\000", 5, "[]a\\-", 5, 0},
    {"b?*[**\000?a*^[", 12, "-z\351a", 4, 0},
    {"b[", 2, "-`", 2, 0},
    {"^a-*z\351A^?\351*", 11, "-B\000?z[", 6, 0},
    {"[zzA[?[\\]\351ba\\", 13, "-]\351", 3, 0},
    {"\\*A\000a]", 6, "`z`", 3, 0},
    {"?*-?\000AAa", 8, "A]`*", 4, 0},
    {"-*?aa*^A^", 9, "-^*^?", 5, 0},
    {"[\351z\\", 4, "*ba`", 4, 0},
    {"b*A\\\\\351", 6, "z^*^", 4, 0},
    {"z[]A]", 5, "[z]", 3, 0},
    {"z\\\\*?*\\?A?*aA\\", 14, "\351\351a", 3, 0},
    {"aaa*a\\*z", 8, "]zA", 3, 0},
    {"?]*a*z[^\\^a?", 12, "AB\\A", 4, 0},
    {"^Az\000Aa?*\351\\a", 11, "\\]*[", 4, 0},
    {"-[\\*a", 5, "a]`\351", 4, 0},
    {"aAa[[-", 6, "^[\\z[\\", 6, 0},
    {"^ba-[", 5, "]BaB\351^", 6, 0},
    {"\351\\a", 3, "\000A?Ba", 5, 0},
    {"a?]aa]b*\000", 9, "\\`[a^[a", 7, 0},
    {"]\\a\000?a", 6, "a`zB\000\000\\", 7, 0},
    {"?A]Aazz\000A*\\^\000[", 14, "\351a\351?", 4, 0},
    {"*[", 2, "\\^\351]B", 5, 0},
    {"[\000A[-\\[", 7, "-a", 2, 0},
    {"a\\z^\351-", 6, "\\\351a`b-]a", 8, 0},
    {"]^a*[", 5, "Aa?`", 4, 0},
    {"z**[z*z-", 8, "\\*?`", 4, 0},
    {"^\000[a*aba]-", 10, "*a]Aa", 5, 0},
    {"[]", 2, "A^]?\000*[", 7, 0},
    {"?a*A*", 5, "-B*", 3, 0},
    {"b]]]*?^", 7, "A[", 2, 0},
    {"b]^[[?[*\351*b", 11, "b?", 2, 0},
    {"[\000z[", 4, "-**^", 4, 0},
    {"a?\351\351", 4, "\\-az^aA", 7, 0},
    {"[\\\\*A[a\\", 8, "\\a", 2, 0},
    {"az\351b-\\", 6, "]A", 2, 0},
    {"a*\\[?-b", 7, "^`\351", 3, 0},
    {"*??]az\000\\*", 9, "a", 1, 0},
    {"aAa\\", 4, "a^AAaa*", 7, 0},
    {"z?b*[[Aa", 8, "\\-a\\Aa?[", 8, 0},
    {"^-?\\A[\\", 7, "B-", 2, 0},
    {"\\\351", 2, "-a]\351`^", 6, 0},
    {"]z-a[]*-[", 9, "[-az\351", 5, 0},
    {"\\^\\\351", 4, "\\\\^\000aa", 6, 0},
    {"a?**a?zA\\a[\000", 12, "aa]\000a*", 6, 0},
    {"^a-**?]", 7, "`-^b", 4, 0},
    {"]?b?b[", 6, "zaa", 3, 0},
    {"ab\\?\351^\351^z-\\a*\000", 14, "b*a", 3, 0},
    {"b\351\351\000[aaAa^", 10, "`\000^z\000", 5, 0},
    {"\\\351[z]*\351[-^\\", 11, "`A\000-[??", 7, 0},
    {"\\***\000\351bz]", 9, "B", 1, 0},
    {"[^a*b", 5, "\000`B^", 4, 0},
    {"[\351aA\\]-b\000*Aa", 12, "\000\000z\351]", 5, 0},
    {"[\\\351A*AA*^", 9, "[`B\\", 4, 0},
    {"a[\351-*\351\000a", 8, "B-\\b**]", 7, 0},
    {"[a\351[\351?-", 7, "[a[z", 4, 0},
    {"\351A\\\\a", 5, "bB-", 3, 0},
    {"]?Aa*A*\000", 8, "zB[", 3, 0},
    {"]\\^a", 4, "\\A\000*\\**", 7, 0},
    {"*[", 2, "`[b", 3, 0},
    {"-?z\000*[a?\\]", 10, "[B", 2, 0},
    {"a\\^*^?**", 8, "`^A-?\351", 6, 0},
    {"b\\*aa*", 6, "`-\\\351", 4, 0},
    {"?zz*A-A*", 8, "]a", 2, 0},
    {"\000]^?b[", 6, "a`", 2, 0},
    {"\\\000", 2, "B`^[?]B", 7, 0},
    {"ba[*a^a[*\\b", 11, "-\\\000^`a?", 7, 0},
    {"a?*\\]aA\351[*?", 11, "\\\\-a", 4, 0},
    {"--\\*]bAA", 8, "Bz", 2, 0},
    {"]A*[b\351*-?A-[", 12, "*?`]", 4, 0},
    {"za[*", 4, "a]a\351Aa[B", 8, 0},
    {"a\351z[]", 5, "A-\\A\000*", 6, 0},
    {"[a---[*\351\351\000*]*z", 14, "z\\\000zz", 5, 0},
    {"][a[[zba", 8, "B?", 2, 0},
    {"a*^^a]a*a\351\\]][", 14, "aB\\-?\351", 6, 0},
    {"?[zb\000A", 6, "\\a-?-]", 6, 0},
    {"\000--Aa?b*z", 9, "aB", 2, 0},
    {"aAa?]a", 6, "\000]-[\\b", 6, 0},
    {"a-^a\000za\\", 8, "`*a", 3, 0},
    {"[*\351*", 4, "az]`?", 5, 0},
    {"\351b*z-A\\", 7, "-", 1, 0},
    {"az?", 3, "[B", 2, 0},
    {"a\351Az\351*^A", 8, "-^B[]", 5, 0},
    {"A\351", 2, "\351*a\000", 4, 0},
    {"z?A\\z[?", 7, "B-Az\000b\000", 7, 0},
    {"aaa\000[", 5, "`-\\?", 4, 0},
    {"ba?]-", 5, "`", 1, 0},
    {"^^]-a*a*", 8, "A\000^b]]a", 7, 0},
    {"]?Aa*A*\000", 8, "\\*a*?[^", 7, 0},
    {"?\000-*a\\[*A", 9, "*A-", 3, 0},
    {"]*ba^?a[A^ab-", 13, "]AA?", 4, 0},
    {"****^*za*?*?a", 13, "\000\351^?[`a", 7, 0},
    {"Az*]azA^-A", 10, "\000a\351^a\351-z", 8, 0},
    {"][a\\-*\000\\\000", 9, "*BB", 3, 0},
    {"aba\\][", 6, "-\\[[\351\000b", 7, 0},
    {"\\]\000\000", 4, "z???z\000B[", 8, 0},
    {"A]*[a[-", 7, "a^B-^", 5, 0},
    {"aab?", 4, "abz\000-^\351B", 8, 0},
};

/* Case-insensitive cases: expected answers from COMMAND LIST FILTERBY. */
static const struct glob_case nocase_cases[] = {
    {"S*T", 3, "zscan", 5, 0},
    {"S*T", 3, "cluster", 7, 0},
    {"S*T", 3, "client|reply", 12, 0},
    {"S*T", 3, "select", 6, 1},
    {"[^S]*", 5, "expireat", 8, 1},
    {"[^S]*", 5, "cluster|count-failure-reports", 29, 1},
    {"[^S]*", 5, "mget", 4, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"S*", 2, "move", 4, 0},
    {"S*", 2, "restore-asking", 14, 0},
    {"S*", 2, "select", 6, 1},
    {"S*", 2, "script|kill", 11, 1},
    {"*", 1, "rpoplpush", 9, 1},
    {"*", 1, "zrem", 4, 1},
    {"*", 1, "move", 4, 1},
    {"*", 1, "xpending", 8, 1},
    {"**?", 3, "rpop", 4, 1},
    {"**?", 3, "wait", 4, 1},
    {"**?", 3, "cluster|replicate", 17, 1},
    {"**?", 3, "client|help", 11, 1},
    {"*", 1, "expire", 6, 1},
    {"*", 1, "sinterstore", 11, 1},
    {"*", 1, "psync", 5, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "bzmpop", 6, 1},
    {"*", 1, "command|help", 12, 1},
    {"*", 1, "pubsub|channels", 15, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "hsetnx", 6, 1},
    {"*", 1, "cluster|delslotsrange", 21, 1},
    {"*", 1, "cluster|forget", 14, 1},
    {"*", 1, "xpending", 8, 1},
    {"*?[x-B]", 7, "script", 6, 1},
    {"*?[x-B]", 7, "pfcount", 7, 1},
    {"*?[x-B]", 7, "module|unload", 13, 1},
    {"*?[x-B]", 7, "geosearch", 9, 1},
    {"?*", 2, "lolwut", 6, 1},
    {"?*", 2, "command|count", 13, 1},
    {"?*", 2, "exec", 4, 1},
    {"?*", 2, "cluster|countkeysinslot", 23, 1},
    {"[^S]*", 5, "del", 3, 1},
    {"[^S]*", 5, "object|freq", 11, 1},
    {"[^S]*", 5, "function|stats", 14, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"[[x-B]*", 7, "multi", 5, 1},
    {"[[x-B]*", 7, "lindex", 6, 1},
    {"[[x-B]*", 7, "get", 3, 1},
    {"[[x-B]*", 7, "cluster|forget", 14, 1},
    {"?*", 2, "lrange", 6, 1},
    {"?*", 2, "zunion", 6, 1},
    {"?*", 2, "pubsub|numpat", 13, 1},
    {"?*", 2, "cluster|countkeysinslot", 23, 1},
    {"*", 1, "xgroup|destroy", 14, 1},
    {"*", 1, "latency|histogram", 17, 1},
    {"*", 1, "client|list", 11, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "lmpop", 5, 1},
    {"*", 1, "shutdown", 8, 1},
    {"*", 1, "hset", 4, 1},
    {"*", 1, "xpending", 8, 1},
    {"*?", 2, "command|getkeysandflags", 23, 1},
    {"*?", 2, "zinterstore", 11, 1},
    {"*?", 2, "linsert", 7, 1},
    {"*?", 2, "georadiusbymember", 17, 1},
    {"*", 1, "cluster|shards", 14, 1},
    {"*", 1, "function|list", 13, 1},
    {"*", 1, "pubsub|channels", 15, 1},
    {"*", 1, "xpending", 8, 1},
    {"?*", 2, "zrandmember", 11, 1},
    {"?*", 2, "xlen", 4, 1},
    {"?*", 2, "incrbyfloat", 11, 1},
    {"?*", 2, "cluster|countkeysinslot", 23, 1},
    {"*S", 2, "migrate", 7, 0},
    {"*S", 2, "psubscribe", 10, 0},
    {"*S", 2, "hincrby", 7, 0},
    {"*S", 2, "keys", 4, 1},
    {"*", 1, "hset", 4, 1},
    {"*", 1, "scard", 5, 1},
    {"*", 1, "scan", 4, 1},
    {"*", 1, "xpending", 8, 1},
    {"[A-c]*", 6, "hget", 4, 0},
    {"[A-c]*", 6, "lrange", 6, 0},
    {"[A-c]*", 6, "command|getkeysandflags", 23, 1},
    {"[A-c]*", 6, "get", 3, 0},
    {"[A-c]*", 6, "set", 3, 0},
    {"[A-c]*", 6, "sscan", 5, 0},
    {"[A-c]*", 6, "bitop", 5, 1},
    {"*", 1, "bzmpop", 6, 1},
    {"*", 1, "zadd", 4, 1},
    {"*", 1, "pubsub", 6, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "memory|malloc-stats", 19, 1},
    {"*", 1, "client|unpause", 14, 1},
    {"*", 1, "decrby", 6, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "latency|graph", 13, 1},
    {"*", 1, "function|help", 13, 1},
    {"*", 1, "latency|history", 15, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "command|docs", 12, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "geoadd", 6, 1},
    {"*", 1, "xpending", 8, 1},
    {"*S", 2, "hsetnx", 6, 0},
    {"*S", 2, "xinfo|groups", 12, 1},
    {"*S", 2, "select", 6, 0},
    {"*S", 2, "keys", 4, 1},
    {"[^S]*", 5, "command|info", 12, 1},
    {"[^S]*", 5, "randomkey", 9, 1},
    {"[^S]*", 5, "xgroup|delconsumer", 18, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"*", 1, "debug", 5, 1},
    {"*", 1, "cluster", 7, 1},
    {"*", 1, "cluster|meet", 12, 1},
    {"*", 1, "xpending", 8, 1},
    {"?*", 2, "type", 4, 1},
    {"?*", 2, "module|loadex", 13, 1},
    {"?*", 2, "expiretime", 10, 1},
    {"?*", 2, "cluster|countkeysinslot", 23, 1},
    {"[^S]*", 5, "hincrby", 7, 1},
    {"[^S]*", 5, "function", 8, 1},
    {"[^S]*", 5, "pfadd", 5, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"*", 1, "echo", 4, 1},
    {"*", 1, "eval_ro", 7, 1},
    {"*", 1, "exists", 6, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "mget", 4, 1},
    {"*", 1, "exists", 6, 1},
    {"*", 1, "bzpopmax", 8, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "pexpireat", 9, 1},
    {"*", 1, "function|kill", 13, 1},
    {"*", 1, "expire", 6, 1},
    {"*", 1, "xpending", 8, 1},
    {"*?", 2, "hlen", 4, 1},
    {"*?", 2, "module|unload", 13, 1},
    {"*?", 2, "fcall_ro", 8, 1},
    {"*?", 2, "georadiusbymember", 17, 1},
    {"[^S]*", 5, "unwatch", 7, 1},
    {"[^S]*", 5, "hsetnx", 6, 1},
    {"[^S]*", 5, "georadiusbymember_ro", 20, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"[^S]*", 5, "client|caching", 14, 1},
    {"[^S]*", 5, "pubsub|shardnumsub", 18, 1},
    {"[^S]*", 5, "cluster|nodes", 13, 1},
    {"[^S]*", 5, "cluster|delslotsrange", 21, 1},
    {"*", 1, "pubsub", 6, 1},
    {"*", 1, "cluster|shards", 14, 1},
    {"*", 1, "type", 4, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "subscribe", 9, 1},
    {"*", 1, "command|info", 12, 1},
    {"*", 1, "zrevrangebyscore", 16, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "acl|getuser", 11, 1},
    {"*", 1, "dbsize", 6, 1},
    {"*", 1, "function", 8, 1},
    {"*", 1, "xpending", 8, 1},
    {"*", 1, "reset", 5, 1},
    {"*", 1, "sinterstore", 11, 1},
    {"*", 1, "hincrbyfloat", 12, 1},
    {"*", 1, "xpending", 8, 1},
    {"GET", 3, "lrange", 6, 0},
    {"GET", 3, "client|trackinginfo", 19, 0},
    {"GET", 3, "rename", 6, 0},
    {"GET", 3, "get", 3, 1},
    {"GET", 3, "set", 3, 0},
    {"GET", 3, "sscan", 5, 0},
    {"GET", 3, "bitop", 5, 0},
    {"g?T", 3, "xtrim", 5, 0},
    {"g?T", 3, "zunion", 6, 0},
    {"g?T", 3, "script|exists", 13, 0},
    {"g?T", 3, "get", 3, 1},
    {"g?T", 3, "set", 3, 0},
    {"g?T", 3, "sscan", 5, 0},
    {"g?T", 3, "bitop", 5, 0},
    {"[F-H]et", 7, "pubsub|numpat", 13, 0},
    {"[F-H]et", 7, "reset", 5, 0},
    {"[F-H]et", 7, "flushdb", 7, 0},
    {"[F-H]et", 7, "get", 3, 1},
    {"[F-H]et", 7, "set", 3, 0},
    {"[F-H]et", 7, "sscan", 5, 0},
    {"[F-H]et", 7, "bitop", 5, 0},
    {"[f-h]ET", 7, "exec", 4, 0},
    {"[f-h]ET", 7, "sort", 4, 0},
    {"[f-h]ET", 7, "set", 3, 0},
    {"[f-h]ET", 7, "get", 3, 1},
    {"[f-h]ET", 7, "set", 3, 0},
    {"[f-h]ET", 7, "sscan", 5, 0},
    {"[f-h]ET", 7, "bitop", 5, 0},
    {"[^g]et", 6, "zrangestore", 11, 0},
    {"[^g]et", 6, "xadd", 4, 0},
    {"[^g]et", 6, "module", 6, 0},
    {"[^g]et", 6, "get", 3, 0},
    {"[^g]et", 6, "set", 3, 1},
    {"[^g]et", 6, "sscan", 5, 0},
    {"[^g]et", 6, "bitop", 5, 0},
    {"[\\G]et", 6, "xdel", 4, 0},
    {"[\\G]et", 6, "config|resetstat", 16, 0},
    {"[\\G]et", 6, "acl|cat", 7, 0},
    {"[\\G]et", 6, "get", 3, 0},
    {"[\\G]et", 6, "set", 3, 0},
    {"[\\G]et", 6, "sscan", 5, 0},
    {"[\\G]et", 6, "bitop", 5, 0},
    {"[\\g]ET", 6, "blmpop", 6, 0},
    {"[\\g]ET", 6, "sync", 4, 0},
    {"[\\g]ET", 6, "acl|save", 8, 0},
    {"[\\g]ET", 6, "get", 3, 1},
    {"[\\g]ET", 6, "set", 3, 0},
    {"[\\g]ET", 6, "sscan", 5, 0},
    {"[\\g]ET", 6, "bitop", 5, 0},
    {"*SCAN", 5, "acl|deluser", 11, 0},
    {"*SCAN", 5, "client|setname", 14, 0},
    {"*SCAN", 5, "xgroup|delconsumer", 18, 0},
    {"*SCAN", 5, "get", 3, 0},
    {"*SCAN", 5, "set", 3, 0},
    {"*SCAN", 5, "sscan", 5, 1},
    {"*SCAN", 5, "bitop", 5, 0},
    {"[A-c]*", 6, "ltrim", 5, 0},
    {"[A-c]*", 6, "expire", 6, 0},
    {"[A-c]*", 6, "acl|cat", 7, 1},
    {"[A-c]*", 6, "get", 3, 0},
    {"[A-c]*", 6, "set", 3, 0},
    {"[A-c]*", 6, "sscan", 5, 0},
    {"[A-c]*", 6, "bitop", 5, 1},
    {"[Z-a]*", 6, "punsubscribe", 12, 0},
    {"[Z-a]*", 6, "lmove", 5, 0},
    {"[Z-a]*", 6, "pubsub|shardchannels", 20, 0},
    {"[Z-a]*", 6, "get", 3, 0},
    {"[Z-a]*", 6, "set", 3, 0},
    {"[Z-a]*", 6, "sscan", 5, 0},
    {"[Z-a]*", 6, "bitop", 5, 0},
    {"[_-a]*", 6, "config|rewrite", 14, 0},
    {"[_-a]*", 6, "latency|latest", 14, 0},
    {"[_-a]*", 6, "latency|histogram", 17, 0},
    {"[_-a]*", 6, "get", 3, 0},
    {"[_-a]*", 6, "set", 3, 0},
    {"[_-a]*", 6, "sscan", 5, 0},
    {"[_-a]*", 6, "bitop", 5, 0},
    {"\\S*", 3, "fcall", 5, 0},
    {"\\S*", 3, "select", 6, 1},
    {"\\S*", 3, "client|unpause", 14, 0},
    {"\\S*", 3, "get", 3, 0},
    {"\\S*", 3, "set", 3, 1},
    {"\\S*", 3, "sscan", 5, 1},
    {"\\S*", 3, "bitop", 5, 0},
};

static void run_table(const struct glob_case *t, size_t n, int nocase)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int got = rc_glob_match(t[i].pat, t[i].patlen, t[i].str, t[i].strlen,
                                nocase);
        ck_assert_msg(got == t[i].match,
                      "case %zu: pattern of %zu bytes vs subject of %zu "
                      "bytes: got %d, redis says %d",
                      i, t[i].patlen, t[i].strlen, got, t[i].match);
    }
}

START_TEST(test_redis_table_case_sensitive)
{
    run_table(cs_cases, sizeof(cs_cases) / sizeof(cs_cases[0]), 0);
}
END_TEST

START_TEST(test_redis_table_nocase)
{
    run_table(nocase_cases, sizeof(nocase_cases) / sizeof(nocase_cases[0]),
              1);
}
END_TEST

static int m(const char *p, const char *s, int nocase)
{
    return rc_glob_match(p, strlen(p), s, strlen(s), nocase);
}

START_TEST(test_basics)
{
    ck_assert_int_eq(m("foo", "foo", 0), 1);
    ck_assert_int_eq(m("foo", "fo", 0), 0);
    ck_assert_int_eq(m("foo", "fooo", 0), 0);
    ck_assert_int_eq(m("f*", "foo", 0), 1);
    ck_assert_int_eq(m("*o", "foo", 0), 1);
    ck_assert_int_eq(m("*x*", "foo", 0), 0);
    ck_assert_int_eq(m("user:*:name", "user:42:name", 0), 1);
    ck_assert_int_eq(m("user:*:name", "user:42:age", 0), 0);
    ck_assert_int_eq(m("FOO", "foo", 0), 0);
    ck_assert_int_eq(m("FOO", "foo", 1), 1);
    ck_assert_int_eq(m("[A-Z]oo", "foo", 1), 1);
    ck_assert_int_eq(m("[A-Z]oo", "foo", 0), 0);
    /* Escapes inside a class stay case-sensitive even with nocase. */
    ck_assert_int_eq(m("[\\F]oo", "foo", 1), 0);
    ck_assert_int_eq(m("\\Foo", "foo", 1), 1);
    /* Non-ASCII bytes are never folded. */
    ck_assert_int_eq(m("\xc9", "\xe9", 1), 0);
}
END_TEST

START_TEST(test_no_nul_terminator_needed)
{
    /* Pattern and subject are cut out of larger buffers; bytes beyond the
     * given lengths must not influence the result. */
    const char pat[] = "a*b[xyz";
    const char str[] = "a--bx!!!";

    ck_assert_int_eq(rc_glob_match(pat, 3, str, 4, 0), 1); /* a*b  a--b  */
    ck_assert_int_eq(rc_glob_match(pat, 3, str, 5, 0), 0); /* a*b  a--bx */
    ck_assert_int_eq(rc_glob_match(pat, 4, str, 5, 0), 0); /* a*b[ a--bx */
    ck_assert_int_eq(rc_glob_match(pat, 5, str, 5, 0), 1); /* a*b[x a--bx */
    ck_assert_int_eq(rc_glob_match(pat, 0, str, 0, 0), 1);
}
END_TEST

/* CVE-2022-36021: "a*a*a*...b" used to take exponential time. */
START_TEST(test_pathological_star_pattern_is_fast)
{
    size_t stars = 300, slen = 50000, i;
    char *pat = rc_malloc(stars * 2 + 1);
    char *str = rc_malloc(slen);
    clock_t start = clock();
    double secs;

    for (i = 0; i < stars; i++) {
        pat[2 * i] = 'a';
        pat[2 * i + 1] = '*';
    }
    pat[2 * stars] = 'b';
    memset(str, 'a', slen);
    ck_assert_int_eq(rc_glob_match(pat, stars * 2 + 1, str, slen, 0), 0);
    str[slen - 1] = 'b';
    ck_assert_int_eq(rc_glob_match(pat, stars * 2 + 1, str, slen, 0), 1);
    secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    ck_assert_msg(secs < 2.0, "took %.2fs", secs);
    rc_free(pat);
    rc_free(str);
}
END_TEST

/* Pattern "*a" repeated n times (plus an optional trailing '*'). */
static char *star_chain(size_t n, int trailing_star, size_t *len)
{
    char *p = rc_malloc(2 * n + 1);
    size_t i;

    for (i = 0; i < n; i++) {
        p[2 * i] = '*';
        p[2 * i + 1] = 'a';
    }
    *len = 2 * n;
    if (trailing_star)
        p[(*len)++] = '*';
    return p;
}

/*
 * CVE-2024-31228: Redis stops at 1000 nested stars.  redis-server 7.0.15
 * (Debian, with the fix) answers KEYS ("*a" x 1000) with a 1200-byte key
 * of 'a's and KEYS ("*a" x 1001) with nothing; a trailing '*' adds no
 * nesting.  This matcher does not recurse at all but gives the same
 * answers.
 */
START_TEST(test_nesting_limit_matches_redis)
{
    static const struct {
        size_t n;
        int trailing;
        int match;
    } t[] = {
        {999, 0, 1}, {1000, 0, 1}, {1001, 0, 0}, {1002, 0, 0},
        {999, 1, 1}, {1000, 1, 1}, {1001, 1, 0}, {1002, 1, 0},
    };
    size_t slen = 1200, i;
    char *str = rc_malloc(slen);

    memset(str, 'a', slen);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t plen;
        char *pat = star_chain(t[i].n, t[i].trailing, &plen);

        ck_assert_int_eq(rc_glob_match(pat, plen, str, slen, 0), t[i].match);
        rc_free(pat);
    }
    rc_free(str);
}
END_TEST

START_TEST(test_deep_pattern_does_not_crash)
{
    /* A million-byte pattern of stars and classes: no recursion, so no
     * stack to exhaust; must simply answer. */
    size_t plen = 1000000, i;
    char *pat = rc_malloc(plen);

    for (i = 0; i < plen; i++)
        pat[i] = (i % 3 == 0) ? '*' : (i % 3 == 1) ? '[' : ']';
    ck_assert_int_eq(rc_glob_match(pat, plen, "xyz", 3, 0), 0);
    ck_assert_int_eq(rc_glob_match(pat, plen, "", 0, 0), 0);
    memset(pat, '*', plen);
    ck_assert_int_eq(rc_glob_match(pat, plen, "xyz", 3, 0), 1);
    rc_free(pat);
}
END_TEST

static Suite *glob_suite(void)
{
    Suite *s = suite_create("glob");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_redis_table_case_sensitive);
    tcase_add_test(tc, test_redis_table_nocase);
    tcase_add_test(tc, test_basics);
    tcase_add_test(tc, test_no_nul_terminator_needed);
    tcase_add_test(tc, test_pathological_star_pattern_is_fast);
    tcase_add_test(tc, test_nesting_limit_matches_redis);
    tcase_add_test(tc, test_deep_pattern_does_not_crash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(glob_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
