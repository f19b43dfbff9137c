// Fetch (key 1): reads whole batches from the partitions' owners and long-polls: when less than
// min_bytes is available the fetch parks on every partition it reads and is woken by the next
// append to any of them, or answers at max_wait_ms. The owner that wakes it reads its partitions
// for it and hands the outcome over with the wake-up (see fetch_waiter). A fetch whose partitions
// on another shard all sit at the log ends that shard published parks there without waiting for
// an answer (see published_offsets.h): one cross-shard wake-up per fetch instead of two.
//
// Limits: partition_max_bytes per partition and max_bytes for the response, except that the
// first non-empty partition always gets at least one whole batch (KIP-74), so a consumer can
// always make progress. Both isolation levels read up to the log end: without transactions the
// last stable offset is the high watermark, which on one node is the log end.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/logging.h"
#include "broker/broker.h"
#include "broker/handlers/handler.h"
#include "broker/handlers/owner_plan.h"

namespace ms::broker {

namespace {

using protocol::kafka_error;
using fetch_partition_answer = protocol::fetch_response::fetchable_topic_response_data::partition_data_data;

// Answers with at most this many record bytes are copied into the frame instead of sent with
// sendfile (measured with `memorystreamer bench e2e`, see docs/benchmarks.md).
constexpr int64_t copy_answers_below_bytes = int64_t{32} * 1024;

struct fetch_item {
    std::string_view topic; // into fetch_plan::topics
    int32_t partition = 0;
    model::offset offset;
    int32_t max_bytes = 0;
    size_t topic_index = 0;
    size_t partition_index = 0;
};

// The plan owns copies of the topic names its items point at: a park sent to another shard
// (park_on_owner) may still read them there after the fetch has answered and its request is gone.
struct fetch_plan : owner_plan<fetch_item> {
    std::vector<std::string> topics; // sized once, before any item points into it
};

struct fetch_outcome {
    int16_t error = 0;
    model::offset high_watermark{-1};
    model::offset log_start{-1};
    std::vector<storage::file_slice> slices; // whole batches, sent with sendfile or copied
    uint64_t bytes = 0;
    uint64_t records = 0;                               // offsets the batches cover
    std::shared_ptr<const published_offsets> published; // the partition's, for the fetch's home shard
};

// A parked fetch registers with each partition; expired registrations are dropped now and then so
// that a partition nobody writes to does not collect them.
void park(partition& p, const std::shared_ptr<fetch_waiter>& waiter) {
    constexpr size_t prune_at = 64;
    if (p.waiters.size() >= prune_at) {
        std::erase_if(p.waiters, [](const std::weak_ptr<fetch_waiter>& w) { return w.expired(); });
    }
    p.waiters.push_back(waiter);
}

// On the owner shard. `budget` bounds the bytes read here (the response's max_bytes).
std::vector<fetch_outcome> read_on_owner(partition_manager& partitions, const std::vector<fetch_item>& items,
                                         int64_t budget, const std::shared_ptr<fetch_waiter>& waiter) {
    std::vector<fetch_outcome> outcomes(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const fetch_item& item = items[i];
        fetch_outcome& out = outcomes[i];
        partition* p = partitions.find(item.topic, item.partition);
        if (p == nullptr) {
            out.error = error_code(kafka_error::unknown_topic_or_partition);
            continue;
        }
        const storage::partition_log& log = *p->log;
        out.high_watermark = log.log_end_offset();
        out.log_start = log.log_start_offset();
        out.published = p->published;
        if (item.offset < log.log_start_offset() || item.offset > log.log_end_offset()) {
            out.error = error_code(kafka_error::offset_out_of_range);
            continue;
        }
        if (waiter) {
            park(*p, waiter);
        }
        if (item.offset == log.log_end_offset() || item.max_bytes <= 0 || budget <= 0) {
            continue;
        }
        const auto limit = static_cast<uint64_t>(std::min<int64_t>(item.max_bytes, budget));
        auto read = log.read(item.offset, limit, log.log_end_offset());
        if (!read) {
            out.error = error_code(read.error().code == storage::errc::offset_out_of_range
                                     ? kafka_error::offset_out_of_range
                                     : kafka_error::kafka_storage_error);
            if (read.error().code != storage::errc::offset_out_of_range) {
                logging::get("fetch")->error("read of {}-{} failed: {}", item.topic, item.partition,
                                             read.error().message);
            }
            continue;
        }
        out.bytes = read->bytes;
        out.records =
          read->empty() ? 0 : static_cast<uint64_t>(read->next_offset.value() - read->first_offset.value());
        out.slices = std::move(read->slices);
        budget -= static_cast<int64_t>(out.bytes);
    }
    return outcomes;
}

// The outcomes of a remote owner's items taken from its published offsets, when every item is at
// the published log end (nothing to read yet): the fetch can then park there without waiting for
// an answer. Empty when any item needs the owner.
std::vector<fetch_outcome> at_published_end(remote_offsets& known, const std::vector<fetch_item>& items) {
    std::vector<fetch_outcome> outcomes(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const published_offsets* offsets = known.find(items[i].topic, items[i].partition);
        if (offsets == nullptr) {
            return {};
        }
        const int64_t end = offsets->log_end.load(std::memory_order_relaxed);
        const int64_t start = offsets->log_start.load(std::memory_order_relaxed);
        if (end < 0 || items[i].offset.value() != end || start > end) {
            return {};
        }
        outcomes[i].high_watermark = model::offset(end);
        outcomes[i].log_start = model::offset(start);
    }
    return outcomes;
}

// On the owner: parks a fetch that its home shard found at the published log end, unless the log
// has moved on since (data, or an error to report): then the fetch is woken at once, and the wake
// reads for it as after an append.
void park_on_owner(partition_manager& partitions, const std::vector<fetch_item>& items, int64_t budget,
                   const std::shared_ptr<fetch_waiter>& waiter) {
    const auto outcomes = read_on_owner(partitions, items, budget, waiter);
    const bool changed = std::any_of(outcomes.begin(), outcomes.end(),
                                     [](const fetch_outcome& o) { return o.error != 0 || o.bytes > 0; });
    if (changed) {
        waiter->wake(true);
    }
}

// On the fetch's home shard, after asking another shard: keeps the offsets it publishes for the
// partitions it answered for, for the next fetch of them here.
void remember_published(remote_offsets& known, const std::vector<fetch_item>& items,
                        std::vector<fetch_outcome>& outcomes) {
    for (size_t i = 0; i < items.size(); ++i) {
        if (outcomes[i].published) {
            known.remember(items[i].topic, items[i].partition, std::move(outcomes[i].published));
        }
    }
}

} // namespace

boost::asio::awaitable<handler_reply> handle_fetch(request_context& ctx, protocol::any_request& body) {
    const auto& request = std::get<protocol::fetch_request>(body);
    broker& b = ctx.owner;

    auto plan = std::make_shared<fetch_plan>();
    plan->topics.reserve(request.topics.size());
    for (const auto& topic : request.topics) {
        plan->topics.emplace_back(topic.topic);
    }
    for (size_t t = 0; t < request.topics.size(); ++t) {
        const std::string_view name = plan->topics[t];
        for (size_t p = 0; p < request.topics[t].partitions.size(); ++p) {
            const auto& part = request.topics[t].partitions[p];
            plan->add(
              b.shard_of(name, part.partition.value()),
              fetch_item{name, part.partition.value(), part.fetch_offset, part.partition_max_bytes, t, p});
        }
    }
    const int64_t max_bytes = request.max_bytes;
    const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(0, request.max_wait_ms));

    std::vector<std::vector<fetch_outcome>> results;
    bool any_error = false;
    int64_t available = 0; // record bytes the owners found
    const auto tally = [&] {
        available = 0;
        any_error = false;
        for (const auto& shard_results : results) {
            for (const auto& out : shard_results) {
                available += static_cast<int64_t>(out.bytes);
                any_error |= out.error != 0;
            }
        }
    };
    const auto enough = [&] { return any_error || available >= request.min_bytes || plan->owners.empty(); };
    // What the owner whose partition woke the fetch read for it (home shard only).
    struct handover {
        size_t owner_index = 0;
        std::vector<fetch_outcome> outcomes;
    };
    auto handed = std::make_shared<std::optional<handover>>();
    bool first_pass = true;
    for (;;) {
        const bool may_wait = request.max_wait_ms > 0 && std::chrono::steady_clock::now() < deadline;
        std::shared_ptr<fetch_waiter> waiter;
        if (may_wait) {
            auto read_here = [&b, plan, max_bytes, handed](net::shard_id owner) -> std::function<void()> {
                const size_t index = plan->index_of(owner);
                if (index == plan->owners.size()) {
                    return {};
                }
                auto outcomes = read_on_owner(b.partitions_on(owner), plan->items[index], max_bytes, nullptr);
                return [handed, index, outcomes = std::move(outcomes)]() mutable {
                    *handed = handover{index, std::move(outcomes)};
                };
            };
            waiter = std::make_shared<fetch_waiter>(ctx.home, std::move(read_here));
        }
        // Owners on other shards whose items all sit at their published log end are not asked:
        // the fetch parks there with a one-way message (on the first pass only: a woken fetch
        // has to read). The others are asked, all at once.
        std::vector<std::vector<fetch_outcome>> parked(plan->owners.size());
        std::vector<net::shard_id> asked;
        std::vector<size_t> asked_index;
        for (size_t o = 0; o < plan->owners.size(); ++o) {
            const net::shard_id owner = plan->owners[o];
            if (waiter && first_pass && owner != ctx.home.id()) {
                parked[o] = at_published_end(b.partitions_here().remote(), plan->items[o]);
            }
            if (!parked[o].empty()) {
                b.shards().at(owner).post([&b, plan, o, owner, max_bytes, waiter] {
                    park_on_owner(b.partitions_on(owner), plan->items[o], max_bytes, waiter);
                });
            } else {
                asked.push_back(owner);
                asked_index.push_back(o);
            }
        }
        // Named, not a temporary inside the co_await expression: GCC 12 destroys those twice.
        auto read_there = [&b, plan, max_bytes, waiter](net::shard_id shard, auto reply) {
            reply(read_on_owner(b.partitions_on(shard), plan->items_for(shard), max_bytes, waiter));
        };
        auto answers = co_await net::call_on_each<std::vector<fetch_outcome>>(b.shards(), asked, read_there);
        results = std::move(parked);
        remote_offsets& known = b.partitions_here().remote();
        for (size_t a = 0; a < asked.size(); ++a) {
            const size_t o = asked_index[a];
            results[o] = std::move(answers[a]);
            if (asked[a] != ctx.home.id()) {
                remember_published(known, plan->items[o], results[o]);
            }
        }
        first_pass = false;
        tally();
        if (!may_wait || enough()) {
            if (waiter) {
                co_await waiter->withdraw(); // parked during the read: no wake may read for it now
            }
            break;
        }
        co_await waiter->wait_until(deadline);
        if (*handed) {
            // The other owners' outcomes still stand: they had less than min_bytes when read.
            results[(*handed)->owner_index] = std::move((*handed)->outcomes);
            handed->reset();
            tally();
            if (enough()) {
                break;
            }
        }
    }

    protocol::fetch_response r;
    r.session_id = 0;
    for (const auto& topic : request.topics) {
        auto& answer = r.responses.emplace_back();
        answer.topic = topic.topic;
        answer.partitions.resize(topic.partitions.size());
    }
    int64_t sent = 0;
    // sendfile costs a syscall and a TCP push per partition: for a small answer (a consumer at the
    // log end) one pread per partition and one write of the whole frame are cheaper.
    const bool copy_records = available <= copy_answers_below_bytes;
    auto files = std::make_shared<file_backed_records>();
    shard_metrics& metrics = b.metrics_here();
    plan->for_each_answer(results, [&](const fetch_item& item, const fetch_outcome& out) {
        fetch_partition_answer& answer = r.responses[item.topic_index].partitions[item.partition_index];
        answer.partition_index = model::partition_id(item.partition);
        answer.error_code = out.error;
        answer.high_watermark = out.high_watermark;
        answer.last_stable_offset = out.high_watermark;
        answer.log_start_offset = out.log_start;
        if (request.isolation_level == 1) {
            answer.aborted_transactions.emplace();
        }
        answer.records = iobuf{};
        // The response's max_bytes over all owners; the first data always fits (KIP-74).
        const auto bytes = static_cast<int64_t>(out.bytes);
        if (bytes == 0 || (sent > 0 && sent + bytes > max_bytes)) {
            return;
        }
        sent += bytes;
        std::optional<iobuf> stand_in;
        if (!copy_records) {
            stand_in = files->placeholder(out.slices);
        }
        if (stand_in) {
            answer.records = std::move(*stand_in);
        } else if (auto copy = read_slices(out.slices)) {
            answer.records = std::move(*copy);
        } else {
            answer.error_code = error_code(kafka_error::kafka_storage_error);
            any_error = true;
            logging::get("fetch")->error("read of {}-{} failed: {}", item.topic, item.partition,
                                         copy.error().message);
            return;
        }
        topic_stats& counters = metrics.topic(item.topic);
        counters.fetched_bytes += out.bytes;
        counters.fetched_records += out.records;
    });
    // Partitions are answered in request order (the loop above fills slots by position); owners
    // that were never asked (an empty request) leave nothing to fill.
    handler_reply reply{std::move(r), false, std::move(files)};
    reply.failed = any_error;
    co_return reply;
}

} // namespace ms::broker
