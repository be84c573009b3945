/*
 * lolwut.c — LOLWUT [VERSION v] [args]: Redis's version art.
 *
 * Both drawings are made on one canvas of small integer colours.
 *
 * VERSION 5 (also 4.9) draws Georg Nees's "Schotter" as Redis 7.0 does: a
 * grid of squares (columns, squares per row, squares per column: 66, 8 and
 * 12 by default) rotated and moved at random more and more towards the
 * bottom, drawn with Bresenham lines on a canvas of 2x4-pixel cells that
 * become Braille characters (U+2800 + the cell's bits).  Its first two
 * rows are not randomised, so they are Redis's exactly.
 *
 * VERSION 6 (also 5.9) draws Redis 6's city skyline (columns and rows: 80
 * and 20 by default): a canvas of one pixel per character in four greys,
 * white sky, then two ranks of grey buildings and a rank of black ones
 * with lit windows, all placed, sized and lit at random.  A pixel is a
 * space whose ANSI foreground and background are its grey.  With one row
 * no building is tall enough to show, so that size is Redis's exactly.
 *
 * Every other version prints "Redis ver. <version>", as Redis's unstable
 * art does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "reply.h"
#include "server.h"

/* A width x height picture, one byte of colour a pixel, row by row.
 * Pixels outside it are dropped when drawn and read as 0. */
struct canvas {
    int width, height;
    unsigned char *pixels;
};

static void canvas_init(struct canvas *cv, int width, int height, int background)
{
    size_t n = (size_t)width * (size_t)height;
    cv->width = width;
    cv->height = height;
    cv->pixels = rc_malloc(n + 1);
    memset(cv->pixels, background, n + 1);
}

static void draw_pixel(struct canvas *cv, int x, int y, int color)
{
    if (x < 0 || y < 0 || x >= cv->width || y >= cv->height)
        return;
    cv->pixels[x + y * cv->width] = (unsigned char)color;
}

static int get_pixel(const struct canvas *cv, int x, int y)
{
    if (x < 0 || y < 0 || x >= cv->width || y >= cv->height)
        return 0;
    return cv->pixels[x + y * cv->width];
}

static void draw_line(struct canvas *cv, int x1, int y1, int x2, int y2)
{
    int dx = abs(x2 - x1), dy = abs(y2 - y1);
    int sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
    int err = dx - dy;
    for (;;) {
        draw_pixel(cv, x1, y1, 1);
        if (x1 == x2 && y1 == y2)
            break;
        int e2 = err * 2;
        if (e2 > -dy) {
            err -= dy;
            x1 += sx;
        }
        if (e2 < dx) {
            err += dx;
            y1 += sy;
        }
    }
}

static void draw_square(struct canvas *cv, int x, int y, float size, float angle)
{
    int px[4], py[4];
    size = (float)(size / 1.4142135623);  /* the rotated square's half diagonal */
    size = roundf(size);
    float k = (float)(M_PI / 4 + angle);
    for (int j = 0; j < 4; j++) {
        px[j] = (int)round(sin(k) * size + x);
        py[j] = (int)round(cos(k) * size + y);
        k = (float)(k + M_PI / 2);
    }
    for (int j = 0; j < 4; j++)
        draw_line(cv, px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4]);
}

static float rand_unit(void)
{
    return (float)((double)(rc_random_u64() >> 11) / 9007199254740992.0);
}

static void draw_schotter(struct canvas *cv, int cols, int per_row, int per_col)
{
    int width = cols * 2;
    int padding = width > 4 ? 2 : 0;
    float side = (float)(width - padding * 2) / (float)per_row;
    canvas_init(cv, width, (int)(side * (float)per_col + (float)(padding * 2)), 0);
    for (int y = 0; y < per_col; y++) {
        for (int x = 0; x < per_row; x++) {
            int sx = (int)((float)x * side + side / 2 + (float)padding);
            int sy = (int)((float)y * side + side / 2 + (float)padding);
            float angle = 0;
            if (y > 1) {
                float r1 = rand_unit() / (float)per_col * (float)y;
                float r2 = rand_unit() / (float)per_col * (float)y;
                float r3 = rand_unit() / (float)per_col * (float)y;
                if (rc_random_u64() & 1)
                    r1 = -r1;
                if (rc_random_u64() & 1)
                    r2 = -r2;
                if (rc_random_u64() & 1)
                    r3 = -r3;
                angle = r1;
                sx += (int)(r2 * side / 3);
                sy += (int)(r3 * side / 3);
            }
            draw_square(cv, sx, sy, side, angle);
        }
    }
}

/* Writes a canvas of 0/1 pixels as Braille: one character per 2x4 cell,
 * rows of cells separated by newlines.  Returns the bytes written. */
static size_t render_braille(const struct canvas *cv, char *out)
{
    size_t n = 0;
    for (int y = 0; y < cv->height; y += 4) {
        for (int x = 0; x < cv->width; x += 2) {
            int b = 0;
            b |= get_pixel(cv, x, y) << 0;
            b |= get_pixel(cv, x, y + 1) << 1;
            b |= get_pixel(cv, x, y + 2) << 2;
            b |= get_pixel(cv, x + 1, y) << 3;
            b |= get_pixel(cv, x + 1, y + 1) << 4;
            b |= get_pixel(cv, x + 1, y + 2) << 5;
            b |= get_pixel(cv, x, y + 3) << 6;
            b |= get_pixel(cv, x + 1, y + 3) << 7;
            int code = 0x2800 + b;
            out[n++] = (char)(0xE0 | (code >> 12));
            out[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
            out[n++] = (char)(0x80 | (code & 0x3F));
        }
        if (y != cv->height - 1)
            out[n++] = '\n';
    }
    return n;
}

/* One building of the skyline: its left column, size, grey, and whether
 * it has windows.  It stands on the canvas's bottom row. */
struct building {
    int left, width, height, color, windows;
};

static int rand_below(int n)
{
    return (int)(rc_random_u64() % (uint64_t)n);
}

/* The roof row is two pixels narrower on each side.  Windows fill every
 * other pair of columns and every other row of the inside, two pixels
 * or more away from the walls, roof and ground; each window (a pair of
 * pixels) is one of the two middle greys at random.  Only black
 * buildings have windows, so a window never has its building's grey. */
static void draw_building(struct canvas *cv, const struct building *b)
{
    int ground = cv->height - 1, roof = ground - b->height + 1;
    int right = b->left + b->width - 1;
    for (int y = ground; y >= roof; y--) {
        for (int x = b->left; x <= right; x++) {
            if (y == roof && (x < b->left + 2 || x > right - 2))
                continue;
            int color = b->color;
            int wx = x - b->left - 1, wy = y - roof - 1;
            if (b->windows && wx > 0 && x < right - 1 && wy > 0 && y < ground - 1 &&
                (wx / 2) % 2 == 1 && wy % 2 == 1) {
                /* The right pixel of a window copies the left one; left of
                 * the canvas reads as black, as in Redis. */
                color = wx % 2 ? get_pixel(cv, x - 1, y) : 1 + rand_below(2);
            }
            draw_pixel(cv, x, y, color);
        }
    }
}

/* Grey 3 (white) is the sky.  Buildings go left to right from 10 columns
 * before the canvas with random gaps; the pale grey rank first, half
 * overlapping, then the darker one in front of it, then the black one. */
static void draw_skyline(struct canvas *cv)
{
    struct building b = {0};
    int h = cv->height;
    for (b.color = 2; b.color >= 1; b.color--) {
        for (int x = -10; x < cv->width;) {
            x += rand_below(8);
            b.left = x;
            b.width = 10 + rand_below(9);
            b.height = h / 2 + rand_below(h) / (b.color == 2 ? 2 : 3);
            draw_building(cv, &b);
            x += b.color == 2 ? b.width / 2 : b.width + 1;
        }
    }
    b.color = 0;
    b.windows = 1;
    for (int x = -10; x < cv->width;) {
        x += rand_below(8);
        b.left = x;
        b.width = 5 + rand_below(14);
        if (b.width % 4)
            b.width += b.width % 3;
        b.height = h / 3 + rand_below(h) / 2;
        draw_building(cv, &b);
        x += b.width + 5;
    }
}

/* The pixels of the four greys, black to white: a space with that grey
 * as ANSI foreground and background, then a reset.  16 bytes at most. */
static const char grey_cells[4][17] = {
    "\033[0;30;40m \033[0m",
    "\033[0;90;100m \033[0m",
    "\033[0;37;47m \033[0m",
    "\033[0;97;107m \033[0m",
};

/* Writes a canvas of greys 0..3 one cell a pixel, rows separated by
 * newlines.  Returns the bytes written. */
static size_t render_greys(const struct canvas *cv, char *out)
{
    size_t n = 0;
    for (int y = 0; y < cv->height; y++) {
        for (int x = 0; x < cv->width; x++) {
            const char *cell = grey_cells[get_pixel(cv, x, y) & 3];
            size_t len = strlen(cell);
            memcpy(out + n, cell, len);
            n += len;
        }
        if (y != cv->height - 1)
            out[n++] = '\n';
    }
    return n;
}

/* Reads the optional size arguments into size[0..n) (which hold the
 * defaults), each clamped to 1..max[i] as Redis does; arguments past n are
 * ignored.  Returns 0 after replying the error for a non-integer. */
static int size_args(struct client *c, int argc, const struct slice *argv, int n,
                     long *size, const long *max)
{
    for (int i = 0; i < n && i < argc; i++) {
        long long v;
        if (!rc_str2ll(argv[i].p, argv[i].len, &v)) {
            reply_err_not_int(c);
            return 0;
        }
        size[i] = v < 1 ? 1 : v > max[i] ? max[i] : (long)v;
    }
    return 1;
}

/* The lines after each drawing, before Redis's version. */
static const char schotter_credit[] =
    "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ";
static const char skyline_credit[] =
    "\nDedicated to the 8 bit game developers of past and present.\n"
    "Original 8 bit image from Plaguemon by hikikomori. Redis ver. ";

/* A buffer for a drawing of `body` bytes at most and the lines after it. */
static char *art_alloc(size_t body, const char *credit)
{
    return rc_malloc(body + strlen(credit) + sizeof(RC_VERSION) + 1);
}

/* Appends the credit, Redis's version and a newline to the drawing
 * out[0..n) from art_alloc, replies it as a verbatim "txt" string and
 * frees it. */
static void reply_art(struct client *c, char *out, size_t n, const char *credit)
{
    size_t len = strlen(credit);
    memcpy(out + n, credit, len);
    n += len;
    memcpy(out + n, RC_VERSION, sizeof(RC_VERSION) - 1);
    n += sizeof(RC_VERSION) - 1;
    out[n++] = '\n';
    reply_verbatim(c, out, n, "txt");
    rc_free(out);
}

static void lolwut5(struct client *c, int argc, const struct slice *argv)
{
    long size[3] = {66, 8, 12};   /* columns, squares per row and column */
    static const long max[3] = {1000, 200, 200};
    if (!size_args(c, argc, argv, 3, size, max))
        return;
    struct canvas cv;
    draw_schotter(&cv, (int)size[0], (int)size[1], (int)size[2]);
    size_t cells = (size_t)((cv.width + 1) / 2) * (size_t)((cv.height + 3) / 4);
    char *out = art_alloc(cells * 3 + (size_t)cv.height / 4 + 1, schotter_credit);
    reply_art(c, out, render_braille(&cv, out), schotter_credit);
    rc_free(cv.pixels);
}

static void lolwut6(struct client *c, int argc, const struct slice *argv)
{
    long size[2] = {80, 20};      /* columns and rows */
    static const long max[2] = {1000, 1000};
    if (!size_args(c, argc, argv, 2, size, max))
        return;
    struct canvas cv;
    canvas_init(&cv, (int)size[0], (int)size[1], 3);
    draw_skyline(&cv);
    size_t pixels = (size_t)cv.width * (size_t)cv.height;
    char *out = art_alloc(pixels * (sizeof(grey_cells[0]) - 1) + (size_t)cv.height,
                          skyline_credit);
    reply_art(c, out, render_greys(&cv, out), skyline_credit);
    rc_free(cv.pixels);
}

void cmd_lolwut(struct client *c)
{
    char ver[64];
    int argc = c->argc - 1;
    const struct slice *argv = c->argv + 1;
    snprintf(ver, sizeof(ver), "%s", RC_VERSION);
    if (c->argc >= 3 && arg_is(&c->argv[1], "version")) {
        long long v;
        if (!rc_str2ll(c->argv[2].p, c->argv[2].len, &v)) {
            reply_err_not_int(c);
            return;
        }
        snprintf(ver, sizeof(ver), "%u.0.0", (unsigned)v);
        argc -= 2;
        argv += 2;
    }
    if ((ver[0] == '5' && ver[1] == '.' && ver[2] != '9') ||
        (ver[0] == '4' && ver[1] == '.' && ver[2] == '9')) {
        lolwut5(c, argc, argv);
    } else if ((ver[0] == '6' && ver[1] == '.' && ver[2] != '9') ||
               (ver[0] == '5' && ver[1] == '.' && ver[2] == '9')) {
        lolwut6(c, argc, argv);
    } else {
        static const char text[] = "Redis ver. " RC_VERSION "\n";
        reply_verbatim(c, text, sizeof(text) - 1, "txt");
    }
}
