#pragma once
// owner_plan: the partitions of one request grouped by the shard that owns them, so a handler
// sends each owner one message with all of its partitions (net::call_on_each) and puts the
// answers back in request order.
#include <algorithm>
#include <vector>

#include "net/shard.h"

namespace ms::broker {

template<typename Item>
struct owner_plan {
    std::vector<net::shard_id> owners;    // each owner once, in the order first seen
    std::vector<std::vector<Item>> items; // items[i] go to owners[i], in request order

    void add(net::shard_id owner, Item item) {
        auto slot = std::find(owners.begin(), owners.end(), owner);
        if (slot == owners.end()) {
            owners.push_back(owner);
            items.emplace_back();
            slot = owners.end() - 1;
        }
        items[static_cast<size_t>(slot - owners.begin())].push_back(std::move(item));
    }

    // Calls fn(item, outcome) for every item with the outcome its owner returned for it
    // (`outcomes` as net::call_on_each returns them: outcomes[o][i] answers items[o][i]).
    template<typename Outcomes, typename Fn>
    void for_each_answer(Outcomes& outcomes, Fn&& fn) const {
        for (size_t o = 0; o < owners.size(); ++o) {
            for (size_t i = 0; i < items[o].size(); ++i) {
                fn(items[o][i], outcomes[o][i]);
            }
        }
    }

    // The position of `owner` in owners; owners.size() when it is not one of them.
    [[nodiscard]] size_t index_of(net::shard_id owner) const {
        return static_cast<size_t>(std::find(owners.begin(), owners.end(), owner) - owners.begin());
    }

    // REQUIRES: `owner` is one of owners.
    [[nodiscard]] const std::vector<Item>& items_for(net::shard_id owner) const {
        return items[index_of(owner)];
    }
};

// On an owner shard: the outcomes of its items, some completed later by callbacks (a sync), and
// the reply sent when the last one is in. Starts with one pending completion, released by the
// loop that starts the work (finish() after it), so a callback that runs at once cannot reply early.
template<typename Outcome, typename Reply>
struct pending_outcomes {
    pending_outcomes(size_t n, Reply r) : outcomes(n), done(std::move(r)) {}
    std::vector<Outcome> outcomes;
    size_t pending = 1;
    Reply done;
    void finish() {
        if (--pending == 0) {
            done(std::move(outcomes));
        }
    }
};

} // namespace ms::broker
