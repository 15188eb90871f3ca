/* Unit test of frame and helperpool: frames round-trip and a broken stream is an error, never an
 * overrun; helpers are this program started again (argv[1] names the mode), answer calls from
 * several threads, see no descriptor of the caller but their socket, and one that dies is replaced
 * with the call made again once. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "frame.h"
#include "helperpool.h"
#include "tap.h"

/* Descriptors open in this process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own */
}

/* The helper: echo each request (tag and parts) with one more part, the count of open descriptors;
 * "once" exits after the first answer. */
static int helper(const char *mode)
{
	struct frame f;
	struct frame_part p[FRAME_PARTS];
	char fds[16];
	int rc;

	frame_init(&f);
	while ((rc = frame_read(3, 1 << 20, &f)) == 1) {
		int n = f.n < FRAME_PARTS - 1 ? f.n : FRAME_PARTS - 1;
		for (int i = 0; i < n; i++)
			p[i] = (struct frame_part){ f.part[i].data, f.part[i].len };
		p[n] = (struct frame_part){ fds, (size_t)snprintf(fds, sizeof fds, "%d", open_fds()) };
		if (frame_write(3, f.tag, p, n + 1) < 0 || !strcmp(mode, "once"))
			break;
	}
	frame_free(&f);
	return 0;
}

static void test_frames(void)
{
	int sv[2];
	struct frame f;
	struct frame_part p[3] = { { "abc", 3 }, { "", 0 }, { "\0\1\2", 3 } };
	unsigned char junk[8] = { 7, 0, 0, 0, FRAME_PARTS + 1, 0, 0, 0 };

	frame_init(&f);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ok(frame_write(sv[0], 42, p, 3) == 0, "a frame is written");
	is(frame_read(sv[1], 100, &f), 1, "and read");
	ok(f.tag == 42 && f.n == 3 && f.part[0].len == 3 && !strcmp(buf_str(&f.part[0]), "abc") && f.part[1].len == 0 &&
	   f.part[2].len == 3 && !memcmp(f.part[2].data, "\0\1\2", 3), "with its tag and parts, empty and binary ones");
	frame_write(sv[0], 1, p, 1);
	errno = 0;
	is(frame_read(sv[1], 2, &f), -1, "a frame over the reader's cap is refused");
	is(errno, EMSGSIZE, "as too big");
	close(sv[0]);
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	frame_write(sv[0], 1, p, 1);
	shutdown(sv[0], SHUT_WR);
	is(frame_read(sv[1], 100, &f), 1, "(a fresh stream)");
	is(frame_read(sv[1], 100, &f), 0, "the end of a stream between frames is 0");
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], junk, sizeof junk, 0);
	errno = 0;
	is(frame_read(sv[1], 100, &f), -1, "more parts than a frame holds is an error");
	is(errno, EPROTO, "a protocol error");
	close(sv[0]);
	close(sv[1]);

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	send(sv[0], "\1\0\0\0\1\0\0\0\10\0\0\0abc", 15, 0);   /* one part of 8 bytes, 3 of them sent */
	shutdown(sv[0], SHUT_WR);
	errno = 0;
	is(frame_read(sv[1], 100, &f), -1, "a stream that ends inside a frame is an error");
	is(errno, EPROTO, "a protocol error");
	close(sv[0]);
	errno = 0;
	is(frame_write(sv[1], 1, p, 1), -1, "writing to a closed peer fails");
	is(errno, EPIPE, "with EPIPE, and no SIGPIPE killed this test");
	close(sv[1]);
	frame_free(&f);
}

struct caller {
	struct helperpool *p;
	int id, bad;
	pthread_t tid;
};

static void *call_many(void *arg)
{
	struct caller *c = arg;
	struct frame f;
	struct kw_error e;
	char msg[32];

	frame_init(&f);
	for (int i = 0; i < 200; i++) {
		struct frame_part p = { msg, (size_t)snprintf(msg, sizeof msg, "%d/%d", c->id, i) };
		if (helperpool_call(c->p, (uint32_t)c->id, &p, 1, 1 << 20, &f, &e) < 0 || f.tag != (uint32_t)c->id ||
		    f.n != 2 || strcmp(buf_str(&f.part[0]), msg))
			c->bad++;
	}
	frame_free(&f);
	return NULL;
}

static void test_pool(const char *self)
{
	const char *echo[] = { self, "echo", NULL }, *once[] = { self, "once", NULL }, *none[] = { "/nonexistent/x", NULL };
	struct caller c[4];
	struct helperpool *p;
	struct frame f;
	struct kw_error e;
	struct frame_part q = { "hi", 2 };
	int bad = 0;

	frame_init(&f);
	p = helperpool_new(echo, 2);
	ok(p != NULL, "a pool of two");
	ok(helperpool_call(p, 9, &q, 1, 1 << 20, &f, &e) == 0 && f.tag == 9 && f.n == 2 &&
	   !strcmp(buf_str(&f.part[0]), "hi"), "a call is answered by a helper");
	is(atoi(buf_str(&f.part[1])), 4, "which holds its socket and standard input, output, error only");
	for (int i = 0; i < 4; i++) {
		c[i] = (struct caller){ p, i + 1, 0, 0 };
		pthread_create(&c[i].tid, NULL, call_many, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(c[i].tid, NULL);
		bad += c[i].bad;
	}
	is(bad, 0, "800 calls from four threads on two helpers: each answer is its own call's");
	is(helperpool_failures(p), 0, "no helper failed");
	helperpool_free(p);

	/* With standard input closed the pool's socket pair is 0 and 3: the child's end is already the
	 * descriptor it must become, and must not stay close-on-exec (spawn.c). */
	p = helperpool_new(echo, 1);
	close(0);
	ok(helperpool_call(p, 5, &q, 1, 1 << 20, &f, &e) == 0 && f.tag == 5 && !strcmp(buf_str(&f.part[0]), "hi"),
	   "a channel that is descriptor 3 in the caller reaches the helper");
	helperpool_free(p);

	p = helperpool_new(once, 1);
	ok(helperpool_call(p, 1, &q, 1, 1 << 20, &f, &e) == 0, "a helper that exits after one answer: answers");
	ok(helperpool_call(p, 2, &q, 1, 1 << 20, &f, &e) == 0 && f.tag == 2, "the next call goes to a new helper");
	is(helperpool_failures(p), 1, "the gone one is counted");
	helperpool_free(p);

	p = helperpool_new(none, 1);
	kw_err_clear(&e);
	is(helperpool_call(p, 1, &q, 1, 1 << 20, &f, &e), -1, "a helper that cannot start: the call fails");
	is(e.code, KW_EINTERNAL, "as an internal error");
	ok(strstr(e.msg, "helper") != NULL, "saying so: %s", e.msg);
	helperpool_free(p);
	frame_free(&f);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return helper(argv[1]);
	test_frames();
	test_pool("/proc/self/exe");
	return done_testing();
}
