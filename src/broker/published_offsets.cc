#include "broker/published_offsets.h"

#include <iterator>

namespace ms::broker {

namespace {
// Entries of partitions deleted on their owner are dropped when looked up, and all of them every
// this many remember() calls that change an entry, so that topics created and deleted over time
// do not pile up here.
constexpr size_t sweep_every = 1024;
} // namespace

const published_offsets* remote_offsets::find(std::string_view topic, int32_t index) {
    auto it = _topics.find(topic);
    if (it == _topics.end() || index < 0 || it->second.size() <= static_cast<size_t>(index)) {
        return nullptr;
    }
    auto& slot = it->second[static_cast<size_t>(index)];
    if (slot && slot->gone.load(std::memory_order_acquire)) {
        slot.reset();
        --_count;
    }
    return slot.get();
}

void remote_offsets::remember(std::string_view topic, int32_t index,
                              std::shared_ptr<const published_offsets> offsets) {
    if (index < 0 || !offsets) {
        return;
    }
    auto it = _topics.find(topic);
    if (it == _topics.end()) {
        it =
          _topics.emplace(std::string(topic), std::vector<std::shared_ptr<const published_offsets>>{}).first;
    }
    auto& slots = it->second;
    if (slots.size() <= static_cast<size_t>(index)) {
        slots.resize(static_cast<size_t>(index) + 1);
    }
    auto& slot = slots[static_cast<size_t>(index)];
    if (slot == offsets) {
        return; // as it was: no reference-count write on a line the owner's shard also uses
    }
    if (!slot) {
        ++_count;
    }
    slot = std::move(offsets);
    if (++_remembered_since_sweep >= sweep_every) {
        _remembered_since_sweep = 0;
        drop_gone();
    }
}

void remote_offsets::drop_gone() {
    for (auto it = _topics.begin(); it != _topics.end();) {
        bool any = false;
        for (auto& slot : it->second) {
            if (slot && slot->gone.load(std::memory_order_acquire)) {
                slot.reset();
                --_count;
            }
            any |= slot != nullptr;
        }
        it = any ? std::next(it) : _topics.erase(it);
    }
}

} // namespace ms::broker
