/* channel.h: multi-producer single-consumer channels with the semantics of
 * Rust's std::sync::mpsc: unbounded, bounded (backpressure) and rendezvous,
 * try/timeout variants, disconnection, and a blocking select. */
#ifndef SYNCMARK_CHANNEL_H
#define SYNCMARK_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

/* Capacity of an unbounded channel (Rust's channel()). */
#define SM_CHANNEL_UNBOUNDED SIZE_MAX
/* Largest capacity of a bounded channel. */
#define SM_CHANNEL_MAX_CAPACITY ((size_t)1 << 30)
/* Largest message, in bytes. */
#define SM_CHANNEL_MAX_MESSAGE ((size_t)1 << 16)

/* The sending side; any number of threads may send through one handle or
 * through clones of it. */
struct sm_sender;
/* The receiving side; one thread at a time receives. */
struct sm_receiver;

/* Creates a channel of messages of `message_size` bytes (copied in and
 * out). capacity: SM_CHANNEL_UNBOUNDED (Rust's channel()); 1 ..
 * SM_CHANNEL_MAX_CAPACITY (sync_channel(n): a full channel blocks senders);
 * 0 (sync_channel(0): every send waits for a receive, a rendezvous).
 * Returns 0 and sets *tx and *rx; -EINVAL for a NULL out pointer, a message
 * size of 0 or above SM_CHANNEL_MAX_MESSAGE, or a capacity out of range;
 * -ENOMEM. */
int sm_channel(size_t message_size, size_t capacity, struct sm_sender **tx,
               struct sm_receiver **rx);

/* Adds a sender to the channel (Rust's Sender::clone). Returns the handle
 * to use for it (the same pointer), or NULL for NULL. */
struct sm_sender *sm_sender_clone(struct sm_sender *tx);

/* Releases one sender (Rust's drop). When the last one goes, the receiver
 * sees disconnection once it has drained the queue. NULL is accepted;
 * releasing more senders than were created is undefined, as a double free
 * is. */
void sm_sender_release(struct sm_sender *tx);

/* Releases the receiver. Later sends fail with -EPIPE; messages still queued
 * are discarded and their memory freed. NULL is accepted. */
void sm_receiver_release(struct sm_receiver *rx);

/* Sends a copy of *msg, blocking while a bounded channel is full or, for a
 * rendezvous, until a receiver takes it. Returns 0; -EPIPE when the receiver
 * was released (the message is not sent: the caller still has it, as Rust
 * gives it back in SendError); -EINVAL for NULL arguments. */
int sm_send(struct sm_sender *tx, const void *msg);

/* Sends without blocking. Returns 0; -EAGAIN when a bounded channel is full
 * or no receiver is waiting at a rendezvous (Rust's TrySendError::Full);
 * -EPIPE when the receiver is gone; -EINVAL. */
int sm_try_send(struct sm_sender *tx, const void *msg);

/* Like sm_send, giving up after `timeout_ns`. Returns 0, -ETIMEDOUT (not
 * sent), -EPIPE or -EINVAL. */
int sm_send_timeout(struct sm_sender *tx, const void *msg, uint64_t timeout_ns);

/* Receives the oldest message into *out, blocking while the channel is
 * empty. Messages of one sender arrive in the order it sent them. Returns
 * 0; -EPIPE when every sender is released and the queue is drained; -EINVAL
 * for NULL arguments. */
int sm_recv(struct sm_receiver *rx, void *out);

/* Receives without blocking. Returns 0; -EAGAIN when empty but senders
 * remain (Rust's TryRecvError::Empty); -EPIPE when disconnected and
 * drained; -EINVAL. */
int sm_try_recv(struct sm_receiver *rx, void *out);

/* Like sm_recv, giving up after `timeout_ns`. Returns 0, -ETIMEDOUT,
 * -EPIPE or -EINVAL. */
int sm_recv_timeout(struct sm_receiver *rx, void *out, uint64_t timeout_ns);

/* Waits, without polling, until one of rxs[0..n) can be received from
 * without blocking (a message is there or the channel is disconnected), and
 * stores its index in *ready (the lowest such index). timeout_ns < 0 waits
 * forever. Returns 0, -ETIMEDOUT, or -EINVAL for n == 0, n above 1024 or a
 * NULL argument. The caller then receives from rxs[*ready]. */
int sm_select(struct sm_receiver *const *rxs, size_t n, int64_t timeout_ns,
              size_t *ready);

/* Returns the number of messages queued now (a snapshot; 0 for NULL and for
 * a rendezvous). */
size_t sm_receiver_len(const struct sm_receiver *rx);

#endif
