/*
 * lolwut.c — LOLWUT [VERSION v] [args]: Redis's version art.
 *
 * VERSION 5 (also 4.9) draws Georg Nees's "Schotter" as Redis 7.0 does: a
 * grid of squares (columns, squares per row, squares per column: 66, 8 and
 * 12 by default) rotated and moved at random more and more towards the
 * bottom, drawn with Bresenham lines on a canvas of 2x4-pixel cells that
 * become Braille characters (U+2800 + the cell's bits).  Its first two
 * rows are not randomised, so they are Redis's exactly.  Every other
 * version but 6 prints "Redis ver. <version>", as Redis's unstable art
 * does.  VERSION 6 (Redis's skyline) is not provided: it answers an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"
#include "reply.h"
#include "server.h"

struct canvas {
    int width, height;
    unsigned char *pixels;
};

static void draw_pixel(struct canvas *cv, int x, int y)
{
    if (x < 0 || y < 0 || x >= cv->width || y >= cv->height)
        return;
    cv->pixels[x + y * cv->width] = 1;
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
        draw_pixel(cv, x1, y1);
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
    cv->width = width;
    cv->height = (int)(side * (float)per_col + (float)(padding * 2));
    cv->pixels = rc_malloc((size_t)cv->width * (size_t)cv->height + 1);
    memset(cv->pixels, 0, (size_t)cv->width * (size_t)cv->height + 1);
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

/* Appends the canvas as Braille: one character per 2x4 cell, rows of
 * cells separated by newlines. */
static size_t render(const struct canvas *cv, char *out)
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

/* A LOLWUT argument, clamped to lo..hi as Redis does; 0 after replying
 * the error for a non-integer. */
static int clamped_arg(struct client *c, const struct slice *a, long lo, long hi, long *out)
{
    long long v;
    if (!rc_str2ll(a->p, a->len, &v)) {
        reply_err_not_int(c);
        return 0;
    }
    *out = v < lo ? lo : v > hi ? hi : (long)v;
    return 1;
}

static void lolwut5(struct client *c, int argc, const struct slice *argv)
{
    long cols = 66, per_row = 8, per_col = 12;
    if (argc > 0 && !clamped_arg(c, &argv[0], 1, 1000, &cols))
        return;
    if (argc > 1 && !clamped_arg(c, &argv[1], 1, 200, &per_row))
        return;
    if (argc > 2 && !clamped_arg(c, &argv[2], 1, 200, &per_col))
        return;
    struct canvas cv;
    draw_schotter(&cv, (int)cols, (int)per_row, (int)per_col);
    static const char tail[] = "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ";
    size_t cells = (size_t)((cv.width + 1) / 2) * (size_t)((cv.height + 3) / 4);
    size_t cap = cells * 3 + (size_t)cv.height / 4 + 2 + sizeof(tail) + sizeof(RC_VERSION) + 2;
    char *out = rc_malloc(cap);
    size_t n = render(&cv, out);
    n += (size_t)snprintf(out + n, cap - n, "%s%s\n", tail, RC_VERSION);
    reply_verbatim(c, out, n, "txt");
    rc_free(out);
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
        reply_error(c, "ERR LOLWUT version 6 is not available in ringcache");
    } else {
        static const char text[] = "Redis ver. " RC_VERSION "\n";
        reply_verbatim(c, text, sizeof(text) - 1, "txt");
    }
}
