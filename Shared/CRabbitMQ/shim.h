#ifndef CONVENE_CRABBITMQ_SHIM_H
#define CONVENE_CRABBITMQ_SHIM_H

// rabbitmq-c 0.11 (Debian 12) installs flat headers; 0.12+ and Homebrew nest them.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/framing.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_framing.h>
#endif

#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/time.h>

// amqp_login is variadic, which Swift cannot call.
static inline amqp_rpc_reply_t convene_amqp_login_plain(amqp_connection_state_t conn, const char *vhost,
                                                        int frame_max, int heartbeat,
                                                        const char *user, const char *password) {
    return amqp_login(conn, vhost, 0, frame_max, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}

// A field table built from Swift. Keys and string values are copied, so Swift's temporary
// C strings may die after each call; convene_table_free releases the copies.
#define CONVENE_TABLE_CAPACITY 24
typedef struct {
    amqp_table_entry_t entries[CONVENE_TABLE_CAPACITY];
    int count;
} convene_table;

static inline void convene_table_init(convene_table *t) { memset(t, 0, sizeof(*t)); }

static inline amqp_bytes_t convene_copy_bytes(const char *s) {
    amqp_bytes_t b;
    b.len = strlen(s);
    b.bytes = malloc(b.len ? b.len : 1);
    if (b.len) memcpy(b.bytes, s, b.len);
    return b;
}

static inline int convene_table_add_string(convene_table *t, const char *key, const char *value) {
    if (t->count >= CONVENE_TABLE_CAPACITY) return -1;
    amqp_table_entry_t *e = &t->entries[t->count++];
    e->key = convene_copy_bytes(key);
    e->value.kind = AMQP_FIELD_KIND_UTF8;
    e->value.value.bytes = convene_copy_bytes(value);
    return 0;
}

static inline int convene_table_add_i64(convene_table *t, const char *key, int64_t value) {
    if (t->count >= CONVENE_TABLE_CAPACITY) return -1;
    amqp_table_entry_t *e = &t->entries[t->count++];
    e->key = convene_copy_bytes(key);
    e->value.kind = AMQP_FIELD_KIND_I64;
    e->value.value.i64 = value;
    return 0;
}

static inline int convene_table_add_bool(convene_table *t, const char *key, int value) {
    if (t->count >= CONVENE_TABLE_CAPACITY) return -1;
    amqp_table_entry_t *e = &t->entries[t->count++];
    e->key = convene_copy_bytes(key);
    e->value.kind = AMQP_FIELD_KIND_BOOLEAN;
    e->value.value.boolean = value ? 1 : 0;
    return 0;
}

static inline void convene_table_free(convene_table *t) {
    for (int i = 0; i < t->count; i++) {
        free(t->entries[i].key.bytes);
        if (t->entries[i].value.kind == AMQP_FIELD_KIND_UTF8) free(t->entries[i].value.value.bytes.bytes);
    }
    t->count = 0;
}

static inline amqp_table_t convene_table_view(convene_table *t) {
    amqp_table_t table;
    table.num_entries = t->count;
    table.entries = t->count ? t->entries : NULL;
    return table;
}

static inline amqp_bytes_t convene_bytes(const char *s) {
    return s ? amqp_cstring_bytes(s) : amqp_empty_bytes;
}

// One call that sets every property Convene uses; NULL strings are left unset.
static inline int convene_amqp_publish(amqp_connection_state_t conn, amqp_channel_t channel,
                                       const char *exchange, const char *routing_key, int mandatory,
                                       const char *message_id, const char *type,
                                       const char *correlation_id, const char *reply_to,
                                       const char *app_id, const char *expiration,
                                       uint64_t timestamp, int persistent,
                                       convene_table *headers,
                                       const void *body, size_t body_len) {
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = persistent ? 2 : 1;
    if (message_id) { p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG; p.message_id = amqp_cstring_bytes(message_id); }
    if (type) { p._flags |= AMQP_BASIC_TYPE_FLAG; p.type = amqp_cstring_bytes(type); }
    if (correlation_id) { p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG; p.correlation_id = amqp_cstring_bytes(correlation_id); }
    if (reply_to) { p._flags |= AMQP_BASIC_REPLY_TO_FLAG; p.reply_to = amqp_cstring_bytes(reply_to); }
    if (app_id) { p._flags |= AMQP_BASIC_APP_ID_FLAG; p.app_id = amqp_cstring_bytes(app_id); }
    if (expiration) { p._flags |= AMQP_BASIC_EXPIRATION_FLAG; p.expiration = amqp_cstring_bytes(expiration); }
    if (timestamp) { p._flags |= AMQP_BASIC_TIMESTAMP_FLAG; p.timestamp = timestamp; }
    if (headers && headers->count > 0) { p._flags |= AMQP_BASIC_HEADERS_FLAG; p.headers = convene_table_view(headers); }
    amqp_bytes_t b;
    b.len = body_len;
    b.bytes = (void *)body;
    return amqp_basic_publish(conn, channel, convene_bytes(exchange), convene_bytes(routing_key),
                              mandatory, 0, &p, b);
}

static inline amqp_queue_declare_ok_t *convene_amqp_queue_declare(amqp_connection_state_t conn, amqp_channel_t channel,
                                                                  const char *name, int durable, int exclusive,
                                                                  int auto_delete, convene_table *args) {
    return amqp_queue_declare(conn, channel, convene_bytes(name), 0, durable, exclusive, auto_delete,
                              args ? convene_table_view(args) : amqp_empty_table);
}

static inline int convene_amqp_exchange_declare(amqp_connection_state_t conn, amqp_channel_t channel,
                                                const char *name, const char *type) {
    return amqp_exchange_declare(conn, channel, amqp_cstring_bytes(name), amqp_cstring_bytes(type),
                                 0, 1, 0, 0, amqp_empty_table) != NULL;
}

static inline int convene_amqp_queue_bind(amqp_connection_state_t conn, amqp_channel_t channel,
                                          const char *queue, const char *exchange, const char *key) {
    return amqp_queue_bind(conn, channel, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                           amqp_cstring_bytes(key), amqp_empty_table) != NULL;
}

static inline int convene_amqp_basic_consume(amqp_connection_state_t conn, amqp_channel_t channel,
                                             const char *queue, const char *tag) {
    return amqp_basic_consume(conn, channel, amqp_cstring_bytes(queue), amqp_cstring_bytes(tag),
                              0, 0, 0, amqp_empty_table) != NULL;
}

static inline int convene_amqp_basic_cancel(amqp_connection_state_t conn, amqp_channel_t channel, const char *tag) {
    return amqp_basic_cancel(conn, channel, amqp_cstring_bytes(tag)) != NULL;
}

static inline struct timeval convene_timeval(long seconds, long microseconds) {
    struct timeval tv;
    tv.tv_sec = seconds;
    tv.tv_usec = microseconds;
    return tv;
}

// The pieces of a frame Swift needs, without reaching into unions.
static inline amqp_method_number_t convene_frame_method_id(const amqp_frame_t *f) { return f->payload.method.id; }
static inline void *convene_frame_method_decoded(const amqp_frame_t *f) { return f->payload.method.decoded; }
static inline uint64_t convene_frame_body_size(const amqp_frame_t *f) { return f->payload.properties.body_size; }
static inline void *convene_frame_properties(const amqp_frame_t *f) { return f->payload.properties.decoded; }
static inline amqp_bytes_t convene_frame_body_fragment(const amqp_frame_t *f) { return f->payload.body_fragment; }

// Field table values, read without touching the union from Swift.
static inline int convene_field_kind(const amqp_field_value_t *v) { return v->kind; }
static inline amqp_bytes_t convene_field_bytes(const amqp_field_value_t *v) { return v->value.bytes; }
static inline int64_t convene_field_integer(const amqp_field_value_t *v) {
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8: return v->value.i8;
    case AMQP_FIELD_KIND_U8: return v->value.u8;
    case AMQP_FIELD_KIND_I16: return v->value.i16;
    case AMQP_FIELD_KIND_U16: return v->value.u16;
    case AMQP_FIELD_KIND_I32: return v->value.i32;
    case AMQP_FIELD_KIND_U32: return v->value.u32;
    case AMQP_FIELD_KIND_I64: return v->value.i64;
    case AMQP_FIELD_KIND_U64: return (int64_t)v->value.u64;
    case AMQP_FIELD_KIND_TIMESTAMP: return (int64_t)v->value.u64;
    case AMQP_FIELD_KIND_BOOLEAN: return v->value.boolean;
    default: return 0;
    }
}


// Method ids are cast macros, which Swift does not import.
static const amqp_method_number_t CONVENE_BASIC_ACK = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t CONVENE_BASIC_NACK = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t CONVENE_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t CONVENE_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t CONVENE_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t CONVENE_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t CONVENE_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t CONVENE_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t CONVENE_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD;

// The properties Convene reads, flattened; absent ones have len 0.
typedef struct {
    amqp_bytes_t message_id, type, correlation_id, reply_to, app_id, content_type;
    uint64_t timestamp;
    amqp_table_t headers;
} convene_props;

static inline convene_props convene_read_props(const amqp_basic_properties_t *p) {
    convene_props out;
    memset(&out, 0, sizeof(out));
    if (!p) return out;
    if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) out.message_id = p->message_id;
    if (p->_flags & AMQP_BASIC_TYPE_FLAG) out.type = p->type;
    if (p->_flags & AMQP_BASIC_CORRELATION_ID_FLAG) out.correlation_id = p->correlation_id;
    if (p->_flags & AMQP_BASIC_REPLY_TO_FLAG) out.reply_to = p->reply_to;
    if (p->_flags & AMQP_BASIC_APP_ID_FLAG) out.app_id = p->app_id;
    if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG) out.content_type = p->content_type;
    if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = p->timestamp;
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG) out.headers = p->headers;
    return out;
}

// A server's close reason (connection.close or channel.close) from an RPC reply or a method.
static inline int convene_close_reason(amqp_method_t method, uint16_t *code, amqp_bytes_t *text) {
    if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = (amqp_connection_close_t *)method.decoded;
        *code = m->reply_code; *text = m->reply_text; return 1;
    }
    if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = (amqp_channel_close_t *)method.decoded;
        *code = m->reply_code; *text = m->reply_text; return 2;
    }
    return 0;
}

static inline amqp_method_t convene_frame_method(const amqp_frame_t *f) { return f->payload.method; }

#endif
