#pragma once

// iobuf: a chain of byte ranges ("pieces") over ref-counted, pooled fragments.
//
//   iobuf ──► [piece: frag A, off 0, len 900] [piece: frag A, off 900, len 124] [piece: frag B ...]
//                        │                                 │
//                        ▼                                 ▼
//   fragment A: | refcount | capacity | size | bytes .............................. free |
//
// Ownership rules
// - A fragment is freed (returned to its pool) when the last piece referring to it goes away.
// - Pieces never change bytes that another piece can see: `append` writes into a fragment's free
//   tail only when this iobuf holds the fragment's only reference; otherwise it takes a new one.
//   So sharing (`share`, `append_share`) is safe: the shared bytes are immutable from then on.
// - An iobuf is move-only; copies are explicit (`share()` shares bytes, `copy()` duplicates them).
// - The reference count is atomic, so shares may be handed to another thread (e.g. a flusher or
//   another shard). Mutating one iobuf object from two threads at once is not allowed.
//
// Costs: `share`, `append(iobuf&&)`, `append_share` and `trim_*` copy no bytes, only piece entries.
// Fragments come from a per-thread pool of `default_fragment_size` blocks; larger requests get an
// exact-size block that is not pooled.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ms {

class fragment {
public:
    static constexpr size_t default_size = size_t{16} * 1024;

    // Returns a fragment with a reference count of 1 and capacity() >= min_capacity.
    static fragment* allocate(size_t min_capacity);

    void add_ref() noexcept { _refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept;
    [[nodiscard]] bool unique() const noexcept { return _refs.load(std::memory_order_acquire) == 1; }

    [[nodiscard]] std::byte* data() noexcept { return reinterpret_cast<std::byte*>(this + 1); }
    [[nodiscard]] const std::byte* data() const noexcept {
        return reinterpret_cast<const std::byte*>(this + 1);
    }
    [[nodiscard]] size_t capacity() const noexcept { return _capacity; }
    // Bytes handed out so far; bytes past this mark belong to nobody yet.
    [[nodiscard]] size_t used() const noexcept { return _used; }
    [[nodiscard]] size_t available() const noexcept { return _capacity - _used; }
    void claim(size_t n) noexcept { _used += n; }

private:
    explicit fragment(size_t capacity) noexcept : _capacity(capacity) {}
    friend struct fragment_pool;

    std::atomic<uint32_t> _refs{1};
    size_t _capacity;
    size_t _used = 0;
    fragment* _next_free = nullptr;
};

// Per-thread pool statistics, for tests and metrics.
struct fragment_pool_stats {
    size_t cached = 0;    // fragments sitting in this thread's free list
    size_t allocated = 0; // fragments this thread obtained from the system allocator
};
fragment_pool_stats this_thread_fragment_pool_stats() noexcept;
// Fills this thread's pool with `count` warm (touched) default-size fragments, so a hot path does
// not pay for page faults on first use.
void prefill_fragment_pool(size_t count);

class iobuf {
public:
    struct piece {
        fragment* frag;
        size_t offset;
        size_t length;
    };

    iobuf() = default;
    ~iobuf() { clear(); }
    iobuf(iobuf&& other) noexcept : _pieces(std::move(other._pieces)), _size(other._size) {
        other._pieces.clear();
        other._size = 0;
    }
    iobuf& operator=(iobuf&& other) noexcept;
    iobuf(const iobuf&) = delete;
    iobuf& operator=(const iobuf&) = delete;

    static iobuf copy_of(std::span<const std::byte> bytes);
    static iobuf copy_of(std::string_view text);

    [[nodiscard]] size_t size() const noexcept { return _size; }
    [[nodiscard]] bool empty() const noexcept { return _size == 0; }
    [[nodiscard]] size_t piece_count() const noexcept { return _pieces.size(); }
    [[nodiscard]] std::span<const std::byte> piece_bytes(size_t i) const noexcept {
        const piece& p = _pieces[i];
        return {p.frag->data() + p.offset, p.length};
    }

    // Copies bytes in, filling the tail fragment when this iobuf owns it alone.
    void append(std::span<const std::byte> bytes);
    void append(std::string_view text);
    // Moves other's pieces to the end of this one; no bytes are copied.
    void append(iobuf&& other);
    // Shares other's bytes at the end of this one; no bytes are copied.
    void append_share(const iobuf& other);

    // Returns at least min_size writable bytes at the end (for socket reads); `commit(n)` then
    // makes the first n of them part of the buffer. Only the most recent reservation may be
    // committed, and nothing else may be appended in between.
    [[nodiscard]] std::span<std::byte> reserve(size_t min_size);
    void commit(size_t n);

    // A new iobuf over bytes [pos, pos + len) of this one, sharing them.
    // REQUIRES: pos + len <= size().
    [[nodiscard]] iobuf share(size_t pos, size_t len) const;
    [[nodiscard]] iobuf share() const { return share(0, _size); }
    // A new iobuf with its own copy of the bytes, in one fragment.
    [[nodiscard]] iobuf copy() const;

    // REQUIRES: n <= size().
    void trim_front(size_t n);
    void trim_back(size_t n);
    void clear() noexcept;

    // Copies bytes [pos, pos + dst.size()) out. REQUIRES: pos + dst.size() <= size().
    void copy_out(size_t pos, std::span<std::byte> dst) const;
    // The bytes [pos, pos + len) when they lie in one piece; an empty span otherwise.
    [[nodiscard]] std::span<const std::byte> contiguous(size_t pos, size_t len) const noexcept;
    // REQUIRES: pos < size(). Walks the pieces: O(piece count).
    [[nodiscard]] std::byte at(size_t pos) const;

    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] std::vector<std::byte> to_bytes() const;

    friend bool operator==(const iobuf& a, const iobuf& b);

private:
    void push_piece(fragment* frag, size_t offset, size_t length);

    std::vector<piece> _pieces;
    size_t _size = 0;
};

inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

} // namespace ms
