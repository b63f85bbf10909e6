/*
 * A small persistent thread pool for the native kernels. One job at a time:
 * the caller publishes (fn, ctx, count), wakes the workers it wants, takes
 * indices itself from a shared atomic counter, and returns once every
 * participant has finished. Which thread computes which index varies from run
 * to run, so callers give each index disjoint outputs; that is why the bits
 * never depend on the thread count.
 *
 * Several JavaScript threads (worker_threads, each with its own Node-API
 * environment) may call into the same loaded library. The pool serves one
 * job at a time; a caller that finds it busy runs its job on its own thread
 * (same bits, less speed) rather than waiting.
 */
#include <pthread.h>
#include <stdatomic.h>
#include "native.h"

#define MAX_WORKERS 63

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER; /* held by the caller whose job runs */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards the fields below */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int started = 0;        /* workers created so far */
static unsigned long generation = 0;
static int wanted = 0;         /* workers that take part in the current job */
static int finished = 0;       /* of those, how many are done */
static sw_task_fn job_fn;
static void *job_ctx;
static size_t job_count;
static atomic_size_t next_index;

static void drain(sw_task_fn fn, void *ctx, size_t count) {
  for (;;) {
    const size_t i = atomic_fetch_add(&next_index, 1);
    if (i >= count) break;
    fn(ctx, i);
  }
}

static void *worker_main(void *arg) {
  const int id = (int)(size_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &lock);
    seen = generation;
    if (id >= wanted) continue;
    sw_task_fn fn = job_fn;
    void *ctx = job_ctx;
    const size_t count = job_count;
    pthread_mutex_unlock(&lock);
    drain(fn, ctx, count);
    pthread_mutex_lock(&lock);
    if (++finished == wanted) pthread_cond_signal(&done_cv);
  }
  return NULL;
}

void sw_parallel_for(size_t count, int threads, sw_task_fn fn, void *ctx) {
  if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
  if (threads <= 1 || count <= 1 || pthread_mutex_trylock(&busy) != 0) {
    for (size_t i = 0; i < count; i++) fn(ctx, i);
    return;
  }
  int helpers = threads - 1;
  if ((size_t)helpers > count - 1) helpers = (int)(count - 1);
  pthread_mutex_lock(&lock);
  while (started < helpers) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int rc = pthread_create(&t, &attr, worker_main, (void *)(size_t)started);
    pthread_attr_destroy(&attr);
    if (rc != 0) break; /* fewer helpers than asked: still correct */
    started++;
  }
  if (helpers > started) helpers = started;
  job_fn = fn;
  job_ctx = ctx;
  job_count = count;
  atomic_store(&next_index, 0);
  wanted = helpers;
  finished = 0;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);

  drain(fn, ctx, count);

  pthread_mutex_lock(&lock);
  while (finished < wanted) pthread_cond_wait(&done_cv, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&busy);
}
