/* timed — timed work by kind and ID, run on one thread of its own (with an event base, which the
 * notification client also uses).
 *
 * This is the narrow stand-in for the shared scheduler: the persistent part is the owners' records
 * (each carries its due time, and each owner queues them again at start); here is only the
 * in-memory list of what is due when, checked every second, and every-second work. Handlers run on
 * the timer thread, never on an HTTP thread; they may wait on gpg or a commit. Thread-safe. */
#ifndef KW_TIMED_H
#define KW_TIMED_H
#include <stddef.h>
#include <time.h>
#include <event2/event.h>

#define TIMED_ID_MAX 80

typedef void (*timed_fn)(void *arg, const char *id);

struct timed;

struct timed *timed_start(char *why, size_t whylen);
/* Stop the thread (a handler in progress finishes); what is pending is dropped. Users of
 * timed_base() free their events after this and before timed_free. NULL is fine for both. */
void timed_stop(struct timed *d);
void timed_free(struct timed *d);
/* Handlers by kind; register before the first timed_at of that kind. 0 or -1. */
int timed_register(struct timed *d, const char *kind, timed_fn fn, void *arg);
/* fn(arg) once a second on the timer thread. 0 or -1. */
int timed_every(struct timed *d, void (*fn)(void *arg), void *arg);
/* Run kind's handler for id at when (at once when that is now or past). An earlier entry of the
 * same kind and ID stays: handlers must be idempotent (each checks its record). */
void timed_at(struct timed *d, const char *kind, const char *id, time_t when);
/* The timer thread's event base (for libevent clients whose callbacks are due work too). */
struct event_base *timed_base(struct timed *d);

#endif
