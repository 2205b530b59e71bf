/* A fake ProfitDLL for tests and demos on Linux: the real DLL's exported names and signatures,
 * callbacks fired from its own "ConnectorThread", plus test-only exports prefixed `Fake`.
 *
 * Build: gcc -shared -fPIC -O2 -pthread -o libfakeprofitdll.so fake_profitdll.c
 * (adapters.profitdll.fakebuild.build_fake_dll does this). On Windows the same source builds a
 * stdcall DLL with MinGW-w64 and winpthreads. Strings are the platform wchar_t (UTF-32 on Linux,
 * UTF-16 on Windows), matching ctypes' c_wchar_p on each platform.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#ifdef _WIN32
#define EXPORT __declspec(dllexport)
#define CALL __stdcall
#else
#define EXPORT __attribute__((visibility("default")))
#define CALL
#endif

#define NL_OK 0
#define NL_INTERNAL_ERROR ((int32_t)0x80000001u)
#define NL_NOT_INITIALIZED ((int32_t)0x80000002u)
#define NL_INVALID_ARGS ((int32_t)0x80000003u)
#define NL_NO_LOGIN ((int32_t)0x80000005u)
#define NL_NO_LICENSE ((int32_t)0x80000006u)
#define NL_MARKET_ONLY ((int32_t)0x8000000Au)
#define NL_NOT_FOUND ((int32_t)0x8000000Cu)
#define NL_VERSION_NOT_SUPPORTED ((int32_t)0x8000000Du)

/* Test-only behaviour bits (FakeSetBehaviour); FAKE_PROFITDLL_BAD_CREDENTIALS=1 sets bit 1. */
#define FAKE_BAD_CREDENTIALS 1
#define FAKE_INVALID_LICENSE 2
#define FAKE_INIT_FAILS 4
#define FAKE_REJECT_ORDERS 8
#define FAKE_FILL_MARKET_ORDERS 16
#define FAKE_STAMP_VOLUME 32 /* streams put CLOCK_MONOTONIC seconds in Volume: latency probes */

/* Counters readable with FakeGetCounter. */
#define FAKE_COUNTER_CALLBACKS 0
#define FAKE_COUNTER_BLOBS_OUTSTANDING 1
#define FAKE_COUNTER_BAD_FREES 2
#define FAKE_COUNTER_INITIALIZATIONS 3
#define FAKE_COUNTER_DROPPED 4
#define FAKE_COUNTER_QUEUED 5
#define FAKE_COUNTER_COUNT 6

/* ---- ABI types (profitdll-reference.md sections 5 and 7) ---- */

typedef struct {
    uint16_t wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond, wMilliseconds;
} TSystemTime;

typedef struct {
    const wchar_t *pwcTicker;
    const wchar_t *pwcBolsa;
    int32_t nFeed;
} TAssetIDRec;

typedef struct {
    uint8_t Version;
    const wchar_t *Ticker;
    const wchar_t *Exchange;
    uint8_t FeedType;
} TConnectorAssetIdentifier;

typedef struct {
    uint8_t Version;
    int32_t BrokerID;
    const wchar_t *AccountID;
    const wchar_t *SubAccountID;
    int64_t Reserved;
} TConnectorAccountIdentifier;

typedef struct {
    uint8_t Version;
    int32_t BrokerID;
    wchar_t AccountID[100];
    int32_t AccountIDLength;
    wchar_t SubAccountID[100];
    int32_t SubAccountIDLength;
    int64_t Reserved;
} TConnectorAccountIdentifierOut;

typedef struct {
    uint8_t Version;
    wchar_t *Ticker;
    int32_t TickerLength;
    wchar_t *Exchange;
    int32_t ExchangeLength;
    uint8_t FeedType;
} TConnectorAssetIdentifierOut;

typedef struct {
    uint8_t Version;
    int64_t LocalOrderID;
    const wchar_t *ClOrderID;
} TConnectorOrderIdentifier;

typedef struct {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorAssetIdentifier AssetID;
    const wchar_t *Password;
    uint8_t OrderType;
    uint8_t OrderSide;
    double Price;
    double StopPrice;
    int64_t Quantity;
    int64_t MessageID;
} TConnectorSendOrder;

typedef struct {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorOrderIdentifier OrderID;
    const wchar_t *Password;
    double Price;
    double StopPrice;
    int64_t Quantity;
    int64_t MessageID;
} TConnectorChangeOrder;

typedef struct {
    uint8_t Version;
    TConnectorAccountIdentifier AccountID;
    TConnectorOrderIdentifier OrderID;
    const wchar_t *Password;
    int64_t MessageID;
} TConnectorCancelOrder;

typedef struct {
    uint8_t Version;
    TConnectorOrderIdentifier OrderID;
    TConnectorAccountIdentifierOut AccountID;
    TConnectorAssetIdentifierOut AssetID;
    int64_t Quantity, TradedQuantity, LeavesQuantity;
    double Price, StopPrice, AveragePrice;
    uint8_t OrderSide, OrderType, OrderStatus, ValidityType;
    TSystemTime Date, LastUpdate, CloseDate, ValidityDate;
    wchar_t *TextMessage;
    int32_t TextMessageLength;
    int64_t EventID;
} TConnectorOrderOut;

typedef struct {
    uint8_t Version;
    TSystemTime TradeDate;
    uint32_t TradeNumber;
    double Price;
    int64_t Quantity;
    double Volume;
    int32_t BuyAgent;
    int32_t SellAgent;
    uint8_t TradeType;
} TConnectorTrade;

typedef struct {
    uint8_t Version;
    int32_t BrokerID;
    TConnectorOrderIdentifier OrderID;
    int64_t MessageID;
    uint8_t ResultCode;
    const wchar_t *Message;
    int32_t MessageLength;
} TConnectorTradingMessageResult;

typedef void(CALL *TStateCallback)(int32_t, int32_t);
typedef void(CALL *TNewTradeCallback)(TAssetIDRec, const wchar_t *, uint32_t, double, double,
                                      int32_t, int32_t, int32_t, int32_t, uint16_t);
typedef void(CALL *TNewDailyCallback)(TAssetIDRec, const wchar_t *, double, double, double,
                                      double, double, double, double, double, double, double,
                                      int32_t, int32_t, int32_t, int32_t, int32_t, int32_t,
                                      int32_t);
typedef void(CALL *TPriceBookCallback)(TAssetIDRec, int32_t, int32_t, int32_t, int32_t, int32_t,
                                       double, void *, void *);
typedef void(CALL *TOfferBookCallback)(TAssetIDRec, int32_t, int32_t, int32_t, int32_t, int32_t,
                                       int64_t, double, uint16_t, uint16_t, uint16_t, uint16_t,
                                       uint16_t, const wchar_t *, void *, void *);
typedef void(CALL *TOfferBookCallbackV2)(TAssetIDRec, int32_t, int32_t, int32_t, int64_t, int32_t,
                                         int64_t, double, uint16_t, uint16_t, uint16_t, uint16_t,
                                         uint16_t, const wchar_t *, void *, void *);
typedef void(CALL *THistoryTradeCallback)(TAssetIDRec, const wchar_t *, uint32_t, double, double,
                                          int32_t, int32_t, int32_t, int32_t);
typedef void(CALL *TProgressCallback)(TAssetIDRec, int32_t);
typedef void(CALL *TTinyBookCallback)(TAssetIDRec, double, int32_t, int32_t);
typedef void(CALL *TAccountCallback)(int32_t, const wchar_t *, const wchar_t *, const wchar_t *);
typedef void(CALL *TOrderChangeCallback)(TAssetIDRec, int32_t, int32_t, int32_t, int32_t, int32_t,
                                         double, double, double, int64_t, const wchar_t *,
                                         const wchar_t *, const wchar_t *, const wchar_t *,
                                         const wchar_t *, const wchar_t *, const wchar_t *);
typedef void(CALL *THistoryCallback)(TAssetIDRec, int32_t, int32_t, int32_t, int32_t, int32_t,
                                     double, double, double, int64_t, const wchar_t *,
                                     const wchar_t *, const wchar_t *, const wchar_t *,
                                     const wchar_t *, const wchar_t *);
typedef void(CALL *TConnectorTradeCallback)(TConnectorAssetIdentifier, void *, uint32_t);
typedef void(CALL *TConnectorOrderCallback)(TConnectorOrderIdentifier);
typedef void(CALL *TInvalidTickerCallback)(TConnectorAssetIdentifier);
typedef void(CALL *TConnectorTradingMessageResultCallback)(const TConnectorTradingMessageResult *);

/* ---- state ---- */

#define TICKER_CHARS 32
#define MAX_SUBSCRIPTIONS 64
#define MAX_ORDERS 4096
#define TEXT_CHARS 128

enum { EV_STATE, EV_TRADE, EV_BOOK, EV_ORDER, EV_INVALID_TICKER, EV_MESSAGE };

typedef struct Event {
    int kind;
    int32_t first, second;
    wchar_t ticker[TICKER_CHARS];
    wchar_t exchange[8];
    TConnectorTrade trade;
    uint32_t flags;
    /* book */
    int32_t action, position, side, agent;
    int64_t quantity, offer_id;
    double price;
    int has_date;
    wchar_t date[32];
    void *sell, *buy;
    /* orders */
    int64_t local_id;
    int64_t message_id;
    uint8_t result_code;
    struct Event *next;
} Event;

typedef struct {
    int64_t local_id;
    wchar_t cl_order_id[40];
    int32_t broker_id;
    wchar_t account[100];
    wchar_t sub_account[100];
    wchar_t ticker[TICKER_CHARS];
    wchar_t exchange[8];
    uint8_t side, type, status;
    double price, stop_price, average_price;
    int64_t quantity, traded;
    wchar_t text[TEXT_CHARS];
    int64_t event_id;
} Order;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_idle = PTHREAD_COND_INITIALIZER;
static Event *g_head, *g_tail;
static int g_initialized, g_routing, g_connected, g_stopping, g_in_callback;
static int32_t g_behaviour;
static pthread_t g_thread, g_stream_thread;
static int g_stream_running, g_stream_joinable;
static int64_t g_counters[FAKE_COUNTER_COUNT];
static wchar_t g_subscribed[MAX_SUBSCRIPTIONS][TICKER_CHARS];
static int g_subscribed_count;
static wchar_t g_book_subscribed[MAX_SUBSCRIPTIONS][TICKER_CHARS];
static int g_book_subscribed_count;
static Order g_orders[MAX_ORDERS];
static int64_t g_order_count, g_next_message_id, g_next_event_id;
static double g_last_price;

static TStateCallback g_state_cb;
static TConnectorTradeCallback g_trade_cb;
static TOfferBookCallbackV2 g_book_cb;
static TConnectorOrderCallback g_order_cb;
static TInvalidTickerCallback g_invalid_ticker_cb;
static TConnectorTradingMessageResultCallback g_message_cb;

/* The order snapshot that GetOrderDetails reports while an order callback runs, so each callback
 * sees the order as it was when the event happened, like the real DLL's accessor contract. */
static __thread const Order *t_order_snapshot;

static void copy_text(wchar_t *target, const wchar_t *source, size_t capacity) {
    if (source == NULL) source = L"";
    wcsncpy(target, source, capacity - 1);
    target[capacity - 1] = L'\0';
}

/* Call with g_lock held. */
static void enqueue_locked(Event *event) {
    event->next = NULL;
    if (g_tail) g_tail->next = event; else g_head = event;
    g_tail = event;
    g_counters[FAKE_COUNTER_QUEUED]++;
    pthread_cond_signal(&g_cond);
}

static Event *new_event(int kind) {
    Event *event = calloc(1, sizeof(Event));
    if (event) event->kind = kind;
    return event;
}

static void enqueue_state_locked(int32_t type, int32_t result) {
    Event *event = new_event(EV_STATE);
    if (!event) return;
    event->first = type;
    event->second = result;
    enqueue_locked(event);
}

static Order *find_order_locked(const TConnectorOrderIdentifier *id) {
    for (int64_t index = 0; index < g_order_count; index++) {
        Order *order = &g_orders[index];
        if (id->LocalOrderID > 0 && order->local_id == id->LocalOrderID) return order;
        if (id->LocalOrderID <= 0 && id->ClOrderID &&
            wcscmp(order->cl_order_id, id->ClOrderID) == 0)
            return order;
    }
    return NULL;
}

EXPORT int32_t CALL FreePointer(void *pointer, int32_t size);

static void deliver(Event *event) {
    TConnectorAssetIdentifier asset = {0, event->ticker, event->exchange, 0};
    switch (event->kind) {
    case EV_STATE:
        if (g_state_cb) g_state_cb(event->first, event->second);
        break;
    case EV_TRADE:
        if (g_trade_cb) g_trade_cb(asset, &event->trade, event->flags);
        break;
    case EV_INVALID_TICKER:
        if (g_invalid_ticker_cb) g_invalid_ticker_cb(asset);
        break;
    case EV_BOOK:
        if (g_book_cb) {
            TAssetIDRec legacy = {event->ticker, event->exchange, 0};
            g_book_cb(legacy, event->action, event->position, event->side, event->quantity,
                      event->agent, event->offer_id, event->price, 1, 1,
                      (uint16_t)event->has_date, 1, 1, event->has_date ? event->date : NULL,
                      event->sell, event->buy);
        } else {
            /* Nobody to free the blobs: free them here so the fake does not leak. */
            if (event->sell) FreePointer(event->sell, *((int32_t *)event->sell + 1));
            if (event->buy) FreePointer(event->buy, *((int32_t *)event->buy + 1));
        }
        break;
    case EV_ORDER: {
        Order *snapshot = (Order *)event->sell;
        TConnectorOrderIdentifier id = {0, snapshot->local_id, snapshot->cl_order_id};
        t_order_snapshot = snapshot;
        if (g_order_cb) g_order_cb(id);
        t_order_snapshot = NULL;
        free(snapshot);
        event->sell = NULL;
        break;
    }
    case EV_MESSAGE:
        if (g_message_cb) {
            TConnectorTradingMessageResult result;
            memset(&result, 0, sizeof(result));
            result.BrokerID = 0;
            result.OrderID.LocalOrderID = event->local_id;
            result.MessageID = event->message_id;
            result.ResultCode = event->result_code;
            result.Message = event->date;
            result.MessageLength = (int32_t)wcslen(event->date);
            g_message_cb(&result);
        }
        break;
    }
}

static void *connector_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&g_lock);
    for (;;) {
        while (!g_head && !g_stopping) pthread_cond_wait(&g_cond, &g_lock);
        if (!g_head && g_stopping) break;
        Event *batch = g_head;
        g_head = g_tail = NULL;
        g_in_callback = 1;
        pthread_mutex_unlock(&g_lock);
        int64_t delivered = 0;
        while (batch) {
            Event *next = batch->next;
            deliver(batch);
            if (batch->kind == EV_ORDER && batch->sell) free(batch->sell);
            free(batch);
            delivered++;
            batch = next;
        }
        pthread_mutex_lock(&g_lock);
        g_counters[FAKE_COUNTER_CALLBACKS] += delivered;
        g_in_callback = 0;
        if (!g_head) pthread_cond_broadcast(&g_idle);
    }
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static int valid_ticker(const wchar_t *ticker) {
    size_t length = wcslen(ticker);
    if (length == 0 || length >= TICKER_CHARS - 1) return 0;
    /* Tickers the fake "does not know": a B3-shaped one (ZZZZ3) and an obviously bad one. */
    if (wcsncmp(ticker, L"INVALID", 7) == 0 || wcsncmp(ticker, L"ZZZ", 3) == 0) return 0;
    for (size_t index = 0; index < length; index++) {
        wchar_t c = ticker[index];
        if (!((c >= L'A' && c <= L'Z') || (c >= L'0' && c <= L'9'))) return 0;
    }
    return 1;
}

static int subscribed_locked(wchar_t list[][TICKER_CHARS], int count, const wchar_t *ticker) {
    for (int index = 0; index < count; index++)
        if (wcscmp(list[index], ticker) == 0) return index;
    return -1;
}

static int32_t subscribe(wchar_t list[][TICKER_CHARS], int *count, const wchar_t *ticker,
                         const wchar_t *exchange, int add) {
    if (!ticker || !exchange || !*ticker || !*exchange) return NL_INVALID_ARGS;
    pthread_mutex_lock(&g_lock);
    int32_t result = NL_OK;
    if (!g_initialized) {
        result = NL_NOT_INITIALIZED;
    } else if (!valid_ticker(ticker)) {
        Event *event = new_event(EV_INVALID_TICKER);
        if (event) {
            copy_text(event->ticker, ticker, TICKER_CHARS);
            copy_text(event->exchange, exchange, 8);
            enqueue_locked(event);
        }
    } else {
        int index = subscribed_locked(list, *count, ticker);
        if (add && index < 0) {
            if (*count >= MAX_SUBSCRIPTIONS) result = NL_INTERNAL_ERROR;
            else copy_text(list[(*count)++], ticker, TICKER_CHARS);
        } else if (!add && index >= 0) {
            memmove(list[index], list[*count - 1], sizeof(list[0]));
            (*count)--;
        } else if (!add) {
            result = NL_NOT_FOUND;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

static int32_t initialize(const wchar_t *key, const wchar_t *user, const wchar_t *password,
                          TStateCallback state, int routing) {
    if (!key || !user || !password || !*user || !*password) return NL_INVALID_ARGS;
    const char *bad = getenv("FAKE_PROFITDLL_BAD_CREDENTIALS");
    pthread_mutex_lock(&g_lock);
    if (g_initialized) {
        pthread_mutex_unlock(&g_lock);
        return NL_INTERNAL_ERROR;
    }
    if (g_behaviour & FAKE_INIT_FAILS) {
        pthread_mutex_unlock(&g_lock);
        return NL_NO_LICENSE;
    }
    int bad_credentials = (g_behaviour & FAKE_BAD_CREDENTIALS) || (bad && bad[0] == '1');
    g_initialized = 1;
    g_routing = routing;
    g_connected = !bad_credentials;
    g_stopping = 0;
    g_state_cb = state;
    g_subscribed_count = g_book_subscribed_count = 0;
    g_order_count = 0;
    g_counters[FAKE_COUNTER_INITIALIZATIONS]++;
    enqueue_state_locked(3, (g_behaviour & FAKE_INVALID_LICENSE) ? 1 : 0);
    if (bad_credentials) {
        enqueue_state_locked(0, 2); /* LOGIN_INVALID_PASS */
        enqueue_state_locked(2, 3); /* MARKET_NOT_LOGGED */
    } else {
        enqueue_state_locked(0, 0);
        enqueue_state_locked(2, 1);
        enqueue_state_locked(2, 4);
        if (routing) {
            enqueue_state_locked(1, 2);
            enqueue_state_locked(1, 5);
        }
    }
    int created = pthread_create(&g_thread, NULL, connector_thread, NULL);
    if (created != 0) g_initialized = 0;
    pthread_mutex_unlock(&g_lock);
    return created == 0 ? NL_OK : NL_INTERNAL_ERROR;
}

/* ---- exported: initialisation ---- */

EXPORT int32_t CALL DLLInitializeLogin(
    const wchar_t *key, const wchar_t *user, const wchar_t *password, TStateCallback state,
    THistoryCallback history, TOrderChangeCallback order_change, TAccountCallback account,
    TNewTradeCallback new_trade, TNewDailyCallback daily, TPriceBookCallback price_book,
    TOfferBookCallback offer_book, THistoryTradeCallback history_trade,
    TProgressCallback progress, TTinyBookCallback tiny_book) {
    /* Deprecated slots are accepted (NULL or not) and never called: the fake speaks V2 only. */
    (void)history; (void)order_change; (void)account; (void)new_trade; (void)daily;
    (void)price_book; (void)offer_book; (void)history_trade; (void)progress; (void)tiny_book;
    return initialize(key, user, password, state, 1);
}

EXPORT int32_t CALL DLLInitializeMarketLogin(
    const wchar_t *key, const wchar_t *user, const wchar_t *password, TStateCallback state,
    TNewTradeCallback new_trade, TNewDailyCallback daily, TPriceBookCallback price_book,
    TOfferBookCallback offer_book, THistoryTradeCallback history_trade,
    TProgressCallback progress, TTinyBookCallback tiny_book) {
    (void)new_trade; (void)daily; (void)price_book; (void)offer_book; (void)history_trade;
    (void)progress; (void)tiny_book;
    return initialize(key, user, password, state, 0);
}

EXPORT int32_t CALL DLLFinalize(void) {
    pthread_mutex_lock(&g_lock);
    if (!g_initialized) {
        pthread_mutex_unlock(&g_lock);
        return NL_NOT_INITIALIZED;
    }
    g_stopping = 1;
    int stream_joinable = g_stream_joinable;
    g_stream_joinable = 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    if (stream_joinable) pthread_join(g_stream_thread, NULL);
    /* Callbacks already queued still fire until this returns, as with the real DLL. */
    pthread_join(g_thread, NULL);
    pthread_mutex_lock(&g_lock);
    g_initialized = g_routing = g_connected = 0;
    g_state_cb = NULL;
    g_trade_cb = NULL;
    g_book_cb = NULL;
    g_order_cb = NULL;
    g_invalid_ticker_cb = NULL;
    g_message_cb = NULL;
    g_subscribed_count = g_book_subscribed_count = 0;
    pthread_cond_broadcast(&g_idle);
    pthread_mutex_unlock(&g_lock);
    return NL_OK;
}

#define SETTER(name, type, target)                          \
    EXPORT int32_t CALL name(type callback) {               \
        pthread_mutex_lock(&g_lock);                        \
        int32_t result = g_initialized ? NL_OK : NL_NOT_INITIALIZED; \
        if (g_initialized) target = callback;               \
        pthread_mutex_unlock(&g_lock);                      \
        return result;                                      \
    }

SETTER(SetStateCallback, TStateCallback, g_state_cb)
SETTER(SetTradeCallbackV2, TConnectorTradeCallback, g_trade_cb)
SETTER(SetOfferBookCallbackV2, TOfferBookCallbackV2, g_book_cb)
SETTER(SetOrderCallback, TConnectorOrderCallback, g_order_cb)
SETTER(SetInvalidTickerCallback, TInvalidTickerCallback, g_invalid_ticker_cb)
SETTER(SetTradingMessageResultCallback, TConnectorTradingMessageResultCallback, g_message_cb)

/* ---- exported: market data ---- */

EXPORT int32_t CALL SubscribeTicker(const wchar_t *ticker, const wchar_t *exchange) {
    return subscribe(g_subscribed, &g_subscribed_count, ticker, exchange, 1);
}

EXPORT int32_t CALL UnsubscribeTicker(const wchar_t *ticker, const wchar_t *exchange) {
    return subscribe(g_subscribed, &g_subscribed_count, ticker, exchange, 0);
}

EXPORT int32_t CALL SubscribeOfferBook(const wchar_t *ticker, const wchar_t *exchange) {
    return subscribe(g_book_subscribed, &g_book_subscribed_count, ticker, exchange, 1);
}

EXPORT int32_t CALL UnsubscribeOfferBook(const wchar_t *ticker, const wchar_t *exchange) {
    return subscribe(g_book_subscribed, &g_book_subscribed_count, ticker, exchange, 0);
}

EXPORT int32_t CALL TranslateTrade(void *trade, TConnectorTrade *out) {
    if (!trade || !out) return NL_INVALID_ARGS;
    if (out->Version != 0) return NL_VERSION_NOT_SUPPORTED;
    memcpy(out, trade, sizeof(TConnectorTrade));
    out->Version = 0;
    return NL_OK;
}

EXPORT int32_t CALL FreePointer(void *pointer, int32_t size) {
    if (!pointer) return NL_INVALID_ARGS;
    int32_t recorded;
    memcpy(&recorded, (char *)pointer + 4, sizeof(recorded));
    pthread_mutex_lock(&g_lock);
    if (recorded != size) {
        g_counters[FAKE_COUNTER_BAD_FREES]++;
        pthread_mutex_unlock(&g_lock);
        return NL_INVALID_ARGS;
    }
    g_counters[FAKE_COUNTER_BLOBS_OUTSTANDING]--;
    pthread_mutex_unlock(&g_lock);
    free(pointer);
    return NL_OK;
}

/* ---- exported: routing ---- */

static void emit_order_locked(Order *order, uint8_t status, const wchar_t *text) {
    order->status = status;
    order->event_id = ++g_next_event_id;
    if (text) copy_text(order->text, text, TEXT_CHARS);
    Event *event = new_event(EV_ORDER);
    Order *snapshot = malloc(sizeof(Order));
    if (!event || !snapshot) {
        free(event);
        free(snapshot);
        return;
    }
    *snapshot = *order;
    event->sell = snapshot;
    enqueue_locked(event);
}

static void emit_message_locked(int64_t local_id, int64_t message_id, uint8_t code,
                                const wchar_t *text) {
    Event *event = new_event(EV_MESSAGE);
    if (!event) return;
    event->local_id = local_id;
    event->message_id = message_id;
    event->result_code = code;
    copy_text(event->date, text, 32);
    enqueue_locked(event);
}

static void fill_locked(Order *order, int64_t quantity, double price) {
    double total = order->average_price * (double)order->traded + price * (double)quantity;
    order->traded += quantity;
    order->average_price = total / (double)order->traded;
    emit_order_locked(order, order->traded >= order->quantity ? 2 : 1, L"");
}

static int32_t routing_ready_locked(void) {
    if (!g_initialized) return NL_NOT_INITIALIZED;
    if (!g_routing) return NL_MARKET_ONLY;
    if (!g_connected) return NL_NO_LOGIN;
    return NL_OK;
}

static int valid_account(const TConnectorAccountIdentifier *account, const wchar_t *password) {
    return account->AccountID && *account->AccountID && password && *password;
}

EXPORT int64_t CALL SendOrder(TConnectorSendOrder *send) {
    if (!send) return NL_INVALID_ARGS;
    if (send->Version > 2) return NL_VERSION_NOT_SUPPORTED;
    uint8_t type = send->OrderType, side = send->OrderSide;
    if (send->Version == 0) {
        /* Version 0 enums (reference 4.3): type 0 limit, 1 stop, 2 market; side 0 buy, 1 sell. */
        static const uint8_t v0_types[] = {2, 4, 1};
        if (type > 2 || side > 1) return NL_INVALID_ARGS;
        type = v0_types[type];
        side = (uint8_t)(side + 1);
    }
    if (!valid_account(&send->AccountID, send->Password)) return NL_INVALID_ARGS;
    if (!send->AssetID.Ticker || !valid_ticker(send->AssetID.Ticker)) return NL_INVALID_ARGS;
    if (side != 1 && side != 2) return NL_INVALID_ARGS;
    if (send->Quantity <= 0) return NL_INVALID_ARGS;
    int market = type == 1;
    if (type != 1 && type != 2 && type != 4) return NL_INVALID_ARGS;
    if (market && send->Price != -1.0) return NL_INVALID_ARGS;
    if (!market && !(send->Price > 0 && isfinite(send->Price))) return NL_INVALID_ARGS;
    if (type != 4 && send->StopPrice != -1.0) return NL_INVALID_ARGS;
    pthread_mutex_lock(&g_lock);
    int32_t ready = routing_ready_locked();
    if (ready != NL_OK || g_order_count >= MAX_ORDERS) {
        pthread_mutex_unlock(&g_lock);
        return ready != NL_OK ? ready : NL_INTERNAL_ERROR;
    }
    Order *order = &g_orders[g_order_count];
    memset(order, 0, sizeof(Order));
    order->local_id = ++g_order_count;
    swprintf(order->cl_order_id, 40, L"FAKE-%lld", (long long)order->local_id);
    order->broker_id = send->AccountID.BrokerID;
    copy_text(order->account, send->AccountID.AccountID, 100);
    copy_text(order->sub_account, send->AccountID.SubAccountID, 100);
    copy_text(order->ticker, send->AssetID.Ticker, TICKER_CHARS);
    copy_text(order->exchange, send->AssetID.Exchange, 8);
    order->side = side;
    order->type = type;
    order->price = send->Price;
    order->stop_price = send->StopPrice;
    order->quantity = send->Quantity;
    int64_t message_id = ++g_next_message_id;
    if (send->Version >= 1) send->MessageID = message_id;
    emit_order_locked(order, 10, L""); /* PendingNew */
    if (g_behaviour & FAKE_REJECT_ORDERS) {
        emit_message_locked(order->local_id, message_id, 7, L"RejectedBroker");
        emit_order_locked(order, 8, L"Fake: rejected by behaviour");
    } else {
        emit_message_locked(order->local_id, message_id, 10, L"Accepted");
        emit_order_locked(order, 0, L""); /* New */
        if (market && (g_behaviour & FAKE_FILL_MARKET_ORDERS) && g_last_price > 0)
            fill_locked(order, order->quantity, g_last_price);
    }
    int64_t local_id = order->local_id;
    pthread_mutex_unlock(&g_lock);
    return local_id;
}

static int is_live(const Order *order) {
    return order->status == 0 || order->status == 1 || order->status == 5 || order->status == 10;
}

EXPORT int32_t CALL SendCancelOrderV2(TConnectorCancelOrder *cancel) {
    if (!cancel) return NL_INVALID_ARGS;
    if (cancel->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    if (!valid_account(&cancel->AccountID, cancel->Password)) return NL_INVALID_ARGS;
    pthread_mutex_lock(&g_lock);
    int32_t result = routing_ready_locked();
    Order *order = result == NL_OK ? find_order_locked(&cancel->OrderID) : NULL;
    if (result == NL_OK && !order) result = NL_NOT_FOUND;
    if (order && !is_live(order)) result = NL_INVALID_ARGS;
    if (result == NL_OK) {
        int64_t message_id = ++g_next_message_id;
        if (cancel->Version >= 1) cancel->MessageID = message_id;
        emit_order_locked(order, 4, L"Canceled by client");
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

EXPORT int32_t CALL SendChangeOrderV2(TConnectorChangeOrder *change) {
    if (!change) return NL_INVALID_ARGS;
    if (change->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    if (!valid_account(&change->AccountID, change->Password)) return NL_INVALID_ARGS;
    if (change->Quantity <= 0 || !(change->Price > 0 && isfinite(change->Price)))
        return NL_INVALID_ARGS;
    pthread_mutex_lock(&g_lock);
    int32_t result = routing_ready_locked();
    Order *order = result == NL_OK ? find_order_locked(&change->OrderID) : NULL;
    if (result == NL_OK && !order) result = NL_NOT_FOUND;
    if (order && (!is_live(order) || change->Quantity < order->traded)) result = NL_INVALID_ARGS;
    if (result == NL_OK) {
        int64_t message_id = ++g_next_message_id;
        if (change->Version >= 1) change->MessageID = message_id;
        order->price = change->Price;
        order->stop_price = change->StopPrice;
        order->quantity = change->Quantity;
        emit_order_locked(order, 5, L"Replaced"); /* Replaced */
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

static void copy_out(wchar_t *target, int32_t *length, const wchar_t *source) {
    int32_t size = (int32_t)wcslen(source);
    if (target) wmemcpy(target, source, (size_t)size);
    *length = size;
}

EXPORT int32_t CALL GetOrderDetails(TConnectorOrderOut *out) {
    if (!out) return NL_INVALID_ARGS;
    if (out->Version > 1) return NL_VERSION_NOT_SUPPORTED;
    pthread_mutex_lock(&g_lock);
    if (!g_initialized) {
        pthread_mutex_unlock(&g_lock);
        return NL_NOT_INITIALIZED;
    }
    const Order *order = find_order_locked(&out->OrderID);
    if (t_order_snapshot && order && t_order_snapshot->local_id == order->local_id)
        order = t_order_snapshot;
    if (!order) {
        pthread_mutex_unlock(&g_lock);
        return NL_NOT_FOUND;
    }
    out->OrderID.LocalOrderID = order->local_id;
    out->AccountID.BrokerID = order->broker_id;
    copy_text(out->AccountID.AccountID, order->account, 100);
    out->AccountID.AccountIDLength = (int32_t)wcslen(out->AccountID.AccountID);
    copy_text(out->AccountID.SubAccountID, order->sub_account, 100);
    out->AccountID.SubAccountIDLength = (int32_t)wcslen(out->AccountID.SubAccountID);
    copy_out(out->AssetID.Ticker, &out->AssetID.TickerLength, order->ticker);
    copy_out(out->AssetID.Exchange, &out->AssetID.ExchangeLength, order->exchange);
    copy_out(out->TextMessage, &out->TextMessageLength, order->text);
    out->Quantity = order->quantity;
    out->TradedQuantity = order->traded;
    out->LeavesQuantity = is_live(order) ? order->quantity - order->traded : 0;
    out->Price = order->price;
    out->StopPrice = order->stop_price;
    out->AveragePrice = order->average_price;
    out->OrderSide = order->side;
    out->OrderType = order->type;
    out->OrderStatus = order->status;
    out->ValidityType = 0;
    if (out->Version >= 1) out->EventID = order->event_id;
    pthread_mutex_unlock(&g_lock);
    return NL_OK;
}

/* ---- test-only exports ---- */

EXPORT void CALL FakeSetBehaviour(int32_t flags) {
    pthread_mutex_lock(&g_lock);
    g_behaviour = flags;
    pthread_mutex_unlock(&g_lock);
}

EXPORT int64_t CALL FakeGetCounter(int32_t which) {
    if (which < 0 || which >= FAKE_COUNTER_COUNT) return -1;
    pthread_mutex_lock(&g_lock);
    int64_t value = g_counters[which];
    pthread_mutex_unlock(&g_lock);
    return value;
}

EXPORT int32_t CALL FakeInjectState(int32_t type, int32_t result) {
    pthread_mutex_lock(&g_lock);
    int32_t status = g_initialized ? NL_OK : NL_NOT_INITIALIZED;
    if (g_initialized) enqueue_state_locked(type, result);
    pthread_mutex_unlock(&g_lock);
    return status;
}

/* Market data arrives only for subscribed tickers while connected, as from the real feed. */
static int32_t market_ready_locked(wchar_t list[][TICKER_CHARS], int count, const wchar_t *ticker) {
    if (!g_initialized) return NL_NOT_INITIALIZED;
    if (!g_connected) {
        g_counters[FAKE_COUNTER_DROPPED]++;
        return NL_NO_LOGIN;
    }
    if (subscribed_locked(list, count, ticker) < 0) {
        g_counters[FAKE_COUNTER_DROPPED]++;
        return NL_NOT_FOUND;
    }
    return NL_OK;
}

EXPORT int32_t CALL FakeInjectTrade(const wchar_t *ticker, const wchar_t *exchange,
                                    const TConnectorTrade *trade, uint32_t flags) {
    if (!ticker || !exchange || !trade) return NL_INVALID_ARGS;
    Event *event = new_event(EV_TRADE);
    if (!event) return NL_INTERNAL_ERROR;
    copy_text(event->ticker, ticker, TICKER_CHARS);
    copy_text(event->exchange, exchange, 8);
    event->trade = *trade;
    event->flags = flags;
    pthread_mutex_lock(&g_lock);
    int32_t result = market_ready_locked(g_subscribed, g_subscribed_count, ticker);
    if (result == NL_OK) {
        if (isfinite(trade->Price) && trade->Price > 0) g_last_price = trade->Price;
        enqueue_locked(event);
    }
    pthread_mutex_unlock(&g_lock);
    if (result != NL_OK) free(event);
    return result;
}

EXPORT int32_t CALL FakeInjectOfferBook(const wchar_t *ticker, const wchar_t *exchange,
                                        int32_t action, int32_t position, int32_t side,
                                        int64_t quantity, int32_t agent, int64_t offer_id,
                                        double price, const wchar_t *date) {
    if (!ticker || !exchange) return NL_INVALID_ARGS;
    Event *event = new_event(EV_BOOK);
    if (!event) return NL_INTERNAL_ERROR;
    copy_text(event->ticker, ticker, TICKER_CHARS);
    copy_text(event->exchange, exchange, 8);
    event->action = action;
    event->position = position;
    event->side = side;
    event->quantity = quantity;
    event->agent = agent;
    event->offer_id = offer_id;
    event->price = price;
    event->has_date = date != NULL;
    if (date) copy_text(event->date, date, 32);
    pthread_mutex_lock(&g_lock);
    int32_t result = market_ready_locked(g_book_subscribed, g_book_subscribed_count, ticker);
    if (result == NL_OK) enqueue_locked(event);
    pthread_mutex_unlock(&g_lock);
    if (result != NL_OK) free(event);
    return result;
}

/* Build a V2 offer array (reference section 8.1): i32 count, i32 total size, 53-byte entries
 * (f64 price, i64 qty, i32 agent, i64 offer id, u16 23, 23 ASCII date bytes), u32 flags. */
static void *offer_array(int32_t count, const double *prices, const int64_t *quantities,
                         const char *date) {
    int32_t size = 8 + 53 * count + 4;
    unsigned char *blob = calloc(1, (size_t)size);
    if (!blob) return NULL;
    memcpy(blob, &count, 4);
    memcpy(blob + 4, &size, 4);
    for (int32_t index = 0; index < count; index++) {
        unsigned char *entry = blob + 8 + 53 * index;
        int32_t agent = 3;
        int64_t offer_id = index + 1;
        uint16_t length = 23;
        memcpy(entry, &prices[index], 8);
        memcpy(entry + 8, &quantities[index], 8);
        memcpy(entry + 16, &agent, 4);
        memcpy(entry + 20, &offer_id, 8);
        memcpy(entry + 28, &length, 2);
        memcpy(entry + 30, date, 23);
    }
    uint32_t flags = 3; /* OB_LAST_PACKET | OB_FIRST_PACKET: the whole book in one page */
    memcpy(blob + 8 + 53 * count, &flags, 4);
    return blob;
}

EXPORT int32_t CALL FakeInjectFullBook(const wchar_t *ticker, const wchar_t *exchange,
                                       int32_t sell_count, const double *sell_prices,
                                       const int64_t *sell_quantities, int32_t buy_count,
                                       const double *buy_prices, const int64_t *buy_quantities,
                                       const char *date) {
    if (!ticker || !exchange || sell_count < 0 || buy_count < 0) return NL_INVALID_ARGS;
    if (!date || strlen(date) != 23) date = "01/12/2025 10:00:00.000";
    Event *event = new_event(EV_BOOK);
    if (!event) return NL_INTERNAL_ERROR;
    copy_text(event->ticker, ticker, TICKER_CHARS);
    copy_text(event->exchange, exchange, 8);
    event->action = 4; /* atFullBook */
    event->sell = offer_array(sell_count, sell_prices, sell_quantities, date);
    event->buy = offer_array(buy_count, buy_prices, buy_quantities, date);
    pthread_mutex_lock(&g_lock);
    int32_t result = market_ready_locked(g_book_subscribed, g_book_subscribed_count, ticker);
    if (result == NL_OK) {
        g_counters[FAKE_COUNTER_BLOBS_OUTSTANDING] += 2;
        enqueue_locked(event);
    }
    pthread_mutex_unlock(&g_lock);
    if (result != NL_OK) {
        free(event->sell);
        free(event->buy);
        free(event);
    }
    return result;
}

EXPORT int32_t CALL FakeInjectOrderUpdate(int64_t local_id, uint8_t status, int64_t traded,
                                          double average_price, const wchar_t *text) {
    pthread_mutex_lock(&g_lock);
    TConnectorOrderIdentifier id = {0, local_id, NULL};
    Order *order = g_initialized ? find_order_locked(&id) : NULL;
    int32_t result = !g_initialized ? NL_NOT_INITIALIZED : order ? NL_OK : NL_NOT_FOUND;
    if (order) {
        order->traded = traded;
        order->average_price = average_price;
        emit_order_locked(order, status, text);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

EXPORT int32_t CALL FakeFillOrder(int64_t local_id, int64_t quantity, double price) {
    pthread_mutex_lock(&g_lock);
    TConnectorOrderIdentifier id = {0, local_id, NULL};
    Order *order = g_initialized ? find_order_locked(&id) : NULL;
    int32_t result = !g_initialized ? NL_NOT_INITIALIZED : order ? NL_OK : NL_NOT_FOUND;
    if (order && (!is_live(order) || quantity <= 0 || order->traded + quantity > order->quantity))
        result = NL_INVALID_ARGS;
    if (result == NL_OK) fill_locked(order, quantity, price);
    pthread_mutex_unlock(&g_lock);
    return result;
}

EXPORT int32_t CALL FakeDropConnection(void) {
    pthread_mutex_lock(&g_lock);
    int32_t result = g_initialized ? NL_OK : NL_NOT_INITIALIZED;
    if (g_initialized) {
        g_connected = 0;
        enqueue_state_locked(2, 0); /* MARKET_DISCONNECTED */
        if (g_routing) enqueue_state_locked(1, 0);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

EXPORT int32_t CALL FakeRestoreConnection(void) {
    pthread_mutex_lock(&g_lock);
    int32_t result = g_initialized ? NL_OK : NL_NOT_INITIALIZED;
    if (g_initialized) {
        g_connected = 1;
        enqueue_state_locked(2, 1);
        enqueue_state_locked(2, 4);
        if (g_routing) enqueue_state_locked(1, 5);
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

/* Wait until every queued callback has been delivered; 1 when idle, 0 on timeout. */
EXPORT int32_t CALL FakeWaitIdle(int32_t timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_lock);
    int idle = 1;
    while (g_head || g_in_callback || g_stream_running) {
        if (pthread_cond_timedwait(&g_idle, &g_lock, &deadline) != 0) {
            idle = !(g_head || g_in_callback || g_stream_running);
            break;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return idle;
}

/* ---- benchmark stream: N trades at a rate, generated on a producer thread ---- */

typedef struct {
    wchar_t ticker[TICKER_CHARS];
    wchar_t exchange[8];
    int64_t count;
    int32_t rate;
    double start_price, tick;
} Stream;

static Stream g_stream;

static void stream_time(TSystemTime *date, int64_t index) {
    int64_t ms = 10LL * 3600 * 1000 + index / 3; /* three trades per millisecond from 10:00 */
    date->wYear = 2025;
    date->wMonth = 12;
    date->wDay = 1;
    date->wDayOfWeek = 1;
    date->wHour = (uint16_t)((ms / 3600000) % 24);
    date->wMinute = (uint16_t)((ms / 60000) % 60);
    date->wSecond = (uint16_t)((ms / 1000) % 60);
    date->wMilliseconds = (uint16_t)(ms % 1000);
}

static void *stream_thread(void *unused) {
    (void)unused;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int64_t steps = 0;
    for (int64_t index = 0; index < g_stream.count; index++) {
        if (g_stream.rate > 0 && index % 16 == 0) {
            double due = (double)index / g_stream.rate;
            for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                double elapsed = (double)(now.tv_sec - start.tv_sec) +
                                 (double)(now.tv_nsec - start.tv_nsec) / 1e9;
                if (elapsed >= due) break;
                double wait = due - elapsed;
                struct timespec pause = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&pause, NULL);
            }
        }
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int up = (seed >> 33) & 1;
        steps += up ? 1 : -1;
        if (steps > 200 || steps < -200) steps = 0;
        Event *event = new_event(EV_TRADE);
        if (!event) break;
        copy_text(event->ticker, g_stream.ticker, TICKER_CHARS);
        copy_text(event->exchange, g_stream.exchange, 8);
        stream_time(&event->trade.TradeDate, index);
        event->trade.TradeNumber = (uint32_t)(index + 1);
        event->trade.Price = g_stream.start_price + g_stream.tick * (double)steps;
        event->trade.Quantity = 1 + (int64_t)((seed >> 40) % 5);
        event->trade.Volume = event->trade.Price * (double)event->trade.Quantity;
        if (g_behaviour & FAKE_STAMP_VOLUME) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            event->trade.Volume = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
        }
        event->trade.BuyAgent = 3;
        event->trade.SellAgent = 72;
        event->trade.TradeType = up ? 2 : 3;
        pthread_mutex_lock(&g_lock);
        int stop = g_stopping;
        if (!stop) {
            g_last_price = event->trade.Price;
            enqueue_locked(event);
        }
        pthread_mutex_unlock(&g_lock);
        if (stop) {
            free(event);
            break;
        }
    }
    pthread_mutex_lock(&g_lock);
    g_stream_running = 0;
    pthread_cond_broadcast(&g_idle);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

/* Start N trades (trade numbers 1..N, buyer/seller-initiated, on the tick grid) at `rate` per
 * second (0 = as fast as possible); FakeWaitIdle waits for the end. */
EXPORT int32_t CALL FakeStartStream(const wchar_t *ticker, const wchar_t *exchange, int64_t count,
                                    int32_t rate, double start_price, double tick) {
    if (!ticker || !exchange || count < 0 || rate < 0 || !(start_price > 0) || !(tick > 0))
        return NL_INVALID_ARGS;
    pthread_mutex_lock(&g_lock);
    int32_t result = market_ready_locked(g_subscribed, g_subscribed_count, ticker);
    if (result == NL_OK && g_stream_running) result = NL_INTERNAL_ERROR;
    int joinable = result == NL_OK && g_stream_joinable;
    if (joinable) g_stream_joinable = 0;
    pthread_mutex_unlock(&g_lock);
    if (joinable) pthread_join(g_stream_thread, NULL);
    if (result != NL_OK) return result;
    copy_text(g_stream.ticker, ticker, TICKER_CHARS);
    copy_text(g_stream.exchange, exchange, 8);
    g_stream.count = count;
    g_stream.rate = rate;
    g_stream.start_price = start_price;
    g_stream.tick = tick;
    pthread_mutex_lock(&g_lock);
    g_stream_running = 1;
    if (pthread_create(&g_stream_thread, NULL, stream_thread, NULL) != 0) {
        g_stream_running = 0;
        result = NL_INTERNAL_ERROR;
    } else {
        g_stream_joinable = 1;
    }
    pthread_mutex_unlock(&g_lock);
    return result;
}

/* The C size of an ABI record, so tests can check the ctypes declarations against the compiler. */
EXPORT int32_t CALL FakeSizeOf(const char *name) {
    if (!name) return -1;
    if (strcmp(name, "TSystemTime") == 0) return (int32_t)sizeof(TSystemTime);
    if (strcmp(name, "TAssetIDRec") == 0) return (int32_t)sizeof(TAssetIDRec);
    if (strcmp(name, "TConnectorAssetIdentifier") == 0)
        return (int32_t)sizeof(TConnectorAssetIdentifier);
    if (strcmp(name, "TConnectorAccountIdentifier") == 0)
        return (int32_t)sizeof(TConnectorAccountIdentifier);
    if (strcmp(name, "TConnectorAccountIdentifierOut") == 0)
        return (int32_t)sizeof(TConnectorAccountIdentifierOut);
    if (strcmp(name, "TConnectorAssetIdentifierOut") == 0)
        return (int32_t)sizeof(TConnectorAssetIdentifierOut);
    if (strcmp(name, "TConnectorOrderIdentifier") == 0)
        return (int32_t)sizeof(TConnectorOrderIdentifier);
    if (strcmp(name, "TConnectorSendOrder") == 0) return (int32_t)sizeof(TConnectorSendOrder);
    if (strcmp(name, "TConnectorChangeOrder") == 0) return (int32_t)sizeof(TConnectorChangeOrder);
    if (strcmp(name, "TConnectorCancelOrder") == 0) return (int32_t)sizeof(TConnectorCancelOrder);
    if (strcmp(name, "TConnectorOrderOut") == 0) return (int32_t)sizeof(TConnectorOrderOut);
    if (strcmp(name, "TConnectorTrade") == 0) return (int32_t)sizeof(TConnectorTrade);
    if (strcmp(name, "TConnectorTradingMessageResult") == 0)
        return (int32_t)sizeof(TConnectorTradingMessageResult);
    return -1;
}
