// SPDX-License-Identifier: GPL-2.0
/*
 * The rate at which this machine inflates a disk's data, the limit for any
 * reader of its compressed image: make bench runs it in the guest.
 *
 *   inflate-rate RAW UNIT KIND SECONDS THREADS
 *
 * RAW is cut into UNIT-byte units, each compressed in memory as the image
 * writer does (KIND zlib: a VMDK stream grain, zlib-wrapped at the default
 * level; deflate: a QCOW2 cluster, raw deflate with a 4 KiB window; zstd: a
 * QCOW2 zstd cluster), then THREADS threads inflate them in turn with the
 * core's decompression (the module's code, over libz and libzstd) for
 * SECONDS.  Prints "INFLATE KIND UNIT <MiB/s out> <units>".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "vdisk_inflate.h"

struct unit {
	unsigned char *data;
	size_t len;
};

static struct unit *units;
static size_t n_units, unit_bytes;
static int kind;		/* 0 zlib, 1 deflate, 2 zstd */
static double seconds;
static int n_threads;

struct worker {
	pthread_t t;
	int id;
	unsigned long long done;
	int bad;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t pack(const unsigned char *src, unsigned char *dst, size_t room)
{
	z_stream s;
	size_t n;

	if (kind == 2) {
		n = ZSTD_compress(dst, room, src, unit_bytes, ZSTD_CLEVEL_DEFAULT);
		return ZSTD_isError(n) ? 0 : n;
	}
	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
			 kind == 0 ? 15 : -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	s.next_in = (unsigned char *)src;
	s.avail_in = (unsigned int)unit_bytes;
	s.next_out = dst;
	s.avail_out = (unsigned int)room;
	n = deflate(&s, Z_FINISH) == Z_STREAM_END ? s.total_out : 0;
	deflateEnd(&s);
	return n;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *out = malloc(unit_bytes);
	double end = now() + seconds;
	size_t i = (size_t)w->id;
	long r;

	if (!out) {
		w->bad = 1;
		return NULL;
	}
	while (now() < end) {
		const struct unit *u = &units[i % n_units];

		if (kind == 2)
			r = vdisk_unzstd(NULL, 0, u->data, u->len, out, unit_bytes);
		else
			r = vdisk_inflate(NULL, kind == 0 ? VDISK_ZLIB : VDISK_RAW_DEFLATE,
					  u->data, u->len, out, unit_bytes);
		if (r != (long)unit_bytes) {
			w->bad = 1;
			break;
		}
		w->done++;
		i += (size_t)n_threads;
	}
	free(out);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long long done = 0;
	unsigned char *raw, *tmp;
	struct worker *w;
	size_t room, i;
	double t0, t;
	FILE *f;
	long size;
	int j;

	if (argc != 6) {
		fprintf(stderr, "usage: inflate-rate RAW UNIT zlib|deflate|zstd SECONDS THREADS\n");
		return 2;
	}
	unit_bytes = strtoul(argv[2], NULL, 0);
	kind = !strcmp(argv[3], "zlib") ? 0 : !strcmp(argv[3], "deflate") ? 1 :
	       !strcmp(argv[3], "zstd") ? 2 : -1;
	seconds = atof(argv[4]);
	n_threads = atoi(argv[5]);
	f = fopen(argv[1], "rb");
	if (!f || kind < 0 || !unit_bytes || n_threads < 1 || seconds <= 0) {
		fprintf(stderr, "inflate-rate: %s: %s\n", argv[1],
			f ? "bad arguments" : strerror(errno));
		return 2;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	n_units = (size_t)size / unit_bytes;
	room = unit_bytes + unit_bytes / 8 + 1024;
	raw = malloc(unit_bytes);
	tmp = malloc(room);
	units = calloc(n_units ? n_units : 1, sizeof(*units));
	w = calloc((size_t)n_threads, sizeof(*w));
	if (!n_units || !raw || !tmp || !units || !w) {
		fprintf(stderr, "inflate-rate: %s: too small, or out of memory\n", argv[1]);
		return 1;
	}
	for (i = 0; i < n_units; i++) {
		if (fread(raw, 1, unit_bytes, f) != unit_bytes)
			return 1;
		units[i].len = pack(raw, tmp, room);
		units[i].data = malloc(units[i].len ? units[i].len : 1);
		if (!units[i].len || !units[i].data) {
			fprintf(stderr, "inflate-rate: cannot compress unit %zu\n", i);
			return 1;
		}
		memcpy(units[i].data, tmp, units[i].len);
	}
	fclose(f);

	t0 = now();
	for (j = 0; j < n_threads; j++) {
		w[j].id = j;
		if (pthread_create(&w[j].t, NULL, work, &w[j]))
			return 1;
	}
	for (j = 0; j < n_threads; j++) {
		pthread_join(w[j].t, NULL);
		if (w[j].bad) {
			fprintf(stderr, "inflate-rate: a unit did not inflate back\n");
			return 1;
		}
		done += w[j].done;
	}
	t = now() - t0;
	printf("INFLATE %s %zu %.1f %llu\n", argv[3], unit_bytes,
	       done * unit_bytes / t / 1048576, done);
	return 0;
}
