/* logq — access-log lines written to standard error by a thread of their own, so a thread that
 * serves requests never waits for the disk.
 *
 * A write(2) to a log file can block for milliseconds while the file system commits its journal
 * (every store commit's fsync makes it do that), and an HTTP thread blocked in it holds up every
 * connection it serves. logq_line only copies the line into a buffer under a mutex; the writer
 * thread waits on a condition variable (it never polls) until 64 KiB are queued or logq_flush asks
 * (the scheduler does, every second: sched_every), swaps the buffer for an empty one and writes it
 * out with one write(2) per batch — so a line reaches the file within about a second, and logging
 * costs no system call per line. A line is never split: lines of different threads
 * never mix. When the writer falls behind by more than max bytes, new lines are dropped and counted,
 * and one line says how many (the server goes on). Other log messages (start, errors) still go to
 * standard error directly: they are rare and may come before or after queued lines.
 *
 * Threads: logq_line from any thread; logq_new/logq_free in main (logq_free writes what is queued). */
#ifndef KW_LOGQ_H
#define KW_LOGQ_H
#include <stddef.h>
#include <stdint.h>

struct logq;

/* A queue of at most max bytes written to descriptor fd, with its writer thread. NULL on failure. */
struct logq *logq_new(int fd, size_t max);
/* Queue one line (n bytes, ending in a newline). With q NULL: written to standard error at once. */
void logq_line(struct logq *q, const char *line, size_t n);
/* Have what is queued written now (the scheduler's periodic call). NULL is fine. */
void logq_flush(struct logq *q);
/* Lines dropped so far because the writer had fallen behind. */
uint64_t logq_dropped(struct logq *q);
/* Write what is queued, stop the writer, free q. NULL is fine. */
void logq_free(struct logq *q);

#endif
