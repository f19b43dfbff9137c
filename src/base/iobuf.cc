#include "base/iobuf.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>

namespace ms {

// The per-thread cache of default-size fragments. A fragment released on another thread joins
// that thread's cache: memory may migrate between threads but is never shared by two caches.
struct fragment_pool {
    static constexpr size_t max_cached = 256;
    static constexpr size_t block_alignment = 64;

    fragment* free_list = nullptr;
    size_t cached = 0;
    size_t allocated = 0;

    fragment_pool() = default;
    fragment_pool(const fragment_pool&) = delete;
    fragment_pool& operator=(const fragment_pool&) = delete;
    ~fragment_pool() {
        while (free_list != nullptr) {
            fragment* f = free_list;
            free_list = f->_next_free;
            free_block(f);
        }
    }

    static fragment* new_block(size_t capacity) {
        void* memory = ::operator new (sizeof(fragment) + capacity, std::align_val_t{block_alignment});
        return new (memory) fragment(capacity);
    }
    static void free_block(fragment* f) noexcept {
        f->~fragment();
        ::operator delete (static_cast<void*>(f), std::align_val_t{block_alignment});
    }

    fragment* get(size_t min_capacity) {
        if (min_capacity <= fragment::default_size) {
            if (free_list != nullptr) {
                fragment* f = free_list;
                free_list = f->_next_free;
                --cached;
                f->_next_free = nullptr;
                f->_used = 0;
                f->_refs.store(1, std::memory_order_relaxed);
                return f;
            }
            ++allocated;
            return new_block(fragment::default_size);
        }
        ++allocated;
        return new_block(min_capacity);
    }

    void put(fragment* f) noexcept {
        if (f->_capacity == fragment::default_size && cached < max_cached) {
            f->_next_free = free_list;
            free_list = f;
            ++cached;
            return;
        }
        free_block(f);
    }
};

namespace {
// False once this thread's pool is destroyed at thread exit: a fragment released by a later
// thread_local destructor then goes straight back to the allocator. A plain bool needs no
// destructor, so it outlives the pool.
thread_local bool pool_alive = false;

struct owned_pool {
    fragment_pool pool;
    owned_pool() { pool_alive = true; }
    owned_pool(const owned_pool&) = delete;
    owned_pool& operator=(const owned_pool&) = delete;
    ~owned_pool() { pool_alive = false; }
};

fragment_pool& this_thread_pool() {
    thread_local owned_pool owned;
    return owned.pool;
}
} // namespace

fragment* fragment::allocate(size_t min_capacity) {
    return this_thread_pool().get(min_capacity);
}

void fragment::release() noexcept {
    if (_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        if (pool_alive) {
            this_thread_pool().put(this);
        } else {
            fragment_pool::free_block(this);
        }
    }
}

fragment_pool_stats this_thread_fragment_pool_stats() noexcept {
    const fragment_pool& pool = this_thread_pool();
    return {pool.cached, pool.allocated};
}

void prefill_fragment_pool(size_t count) {
    fragment_pool& pool = this_thread_pool();
    std::vector<fragment*> warm;
    warm.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        fragment* f = pool.get(fragment::default_size);
        std::memset(f->data(), 0, f->capacity()); // touch every page now, not on the hot path
        warm.push_back(f);
    }
    for (fragment* f : warm) {
        f->release();
    }
}

iobuf& iobuf::operator=(iobuf&& other) noexcept {
    if (this != &other) {
        clear();
        _pieces = std::move(other._pieces);
        _size = other._size;
        other._pieces.clear();
        other._size = 0;
    }
    return *this;
}

iobuf iobuf::copy_of(std::span<const std::byte> bytes) {
    iobuf out;
    out.append(bytes);
    return out;
}

iobuf iobuf::copy_of(std::string_view text) {
    return copy_of(as_bytes(text));
}

void iobuf::push_piece(fragment* frag, size_t offset, size_t length) {
    // Merge with the previous piece when it ends exactly where this one starts in the same
    // fragment: the reference taken for the new piece is then not needed.
    if (!_pieces.empty()) {
        piece& last = _pieces.back();
        if (last.frag == frag && last.offset + last.length == offset) {
            last.length += length;
            _size += length;
            frag->release();
            return;
        }
    }
    _pieces.push_back(piece{frag, offset, length});
    _size += length;
}

void iobuf::append(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        if (!_pieces.empty()) {
            piece& last = _pieces.back();
            fragment* f = last.frag;
            if (f->unique() && last.offset + last.length == f->used() && f->available() > 0) {
                const size_t n = std::min(bytes.size(), f->available());
                std::memcpy(f->data() + f->used(), bytes.data(), n);
                f->claim(n);
                last.length += n;
                _size += n;
                bytes = bytes.subspan(n);
                continue;
            }
        }
        fragment* f = fragment::allocate(bytes.size());
        const size_t n = std::min(bytes.size(), f->capacity());
        std::memcpy(f->data(), bytes.data(), n);
        f->claim(n);
        _pieces.push_back(piece{f, 0, n});
        _size += n;
        bytes = bytes.subspan(n);
    }
}

void iobuf::append(std::string_view text) {
    append(as_bytes(text));
}

void iobuf::append(iobuf&& other) {
    if (&other == this) {
        return;
    }
    if (_pieces.empty()) {
        *this = std::move(other);
        return;
    }
    for (const piece& p : other._pieces) {
        push_piece(p.frag, p.offset, p.length);
    }
    other._pieces.clear();
    other._size = 0;
}

void iobuf::append_share(const iobuf& other) {
    if (&other == this) {
        // Appending may merge into our last piece, which we are about to read again: work from a
        // copy of the piece list.
        const std::vector<piece> snapshot = _pieces;
        for (const piece& p : snapshot) {
            p.frag->add_ref();
            push_piece(p.frag, p.offset, p.length);
        }
        return;
    }
    for (const piece& p : other._pieces) {
        p.frag->add_ref();
        push_piece(p.frag, p.offset, p.length);
    }
}

std::span<std::byte> iobuf::reserve(size_t min_size) {
    if (!_pieces.empty()) {
        const piece& last = _pieces.back();
        fragment* f = last.frag;
        if (f->unique() && last.offset + last.length == f->used() && f->available() >= min_size) {
            return {f->data() + f->used(), f->available()};
        }
        if (last.length == 0) {
            // An earlier reservation, never committed, that is too small: drop it rather than
            // leave an empty piece behind.
            f->release();
            _pieces.pop_back();
        }
    }
    fragment* f = fragment::allocate(min_size);
    _pieces.push_back(piece{f, 0, 0});
    return {f->data(), f->capacity()};
}

void iobuf::commit(size_t n) {
    assert(!_pieces.empty());
    piece& last = _pieces.back();
    assert(last.offset + last.length == last.frag->used() && n <= last.frag->available());
    last.frag->claim(n);
    last.length += n;
    _size += n;
    if (last.length == 0) { // an unused reservation leaves no empty piece behind
        last.frag->release();
        _pieces.pop_back();
    }
}

iobuf iobuf::share(size_t pos, size_t len) const {
    assert(pos + len <= _size);
    iobuf out;
    for (const piece& p : _pieces) {
        if (len == 0) {
            break;
        }
        if (pos >= p.length) {
            pos -= p.length;
            continue;
        }
        const size_t n = std::min(len, p.length - pos);
        p.frag->add_ref();
        out.push_piece(p.frag, p.offset + pos, n);
        len -= n;
        pos = 0;
    }
    return out;
}

iobuf iobuf::copy() const {
    iobuf out;
    if (_size == 0) {
        return out;
    }
    fragment* f = fragment::allocate(_size);
    size_t written = 0;
    for (const piece& p : _pieces) {
        std::memcpy(f->data() + written, p.frag->data() + p.offset, p.length);
        written += p.length;
    }
    f->claim(written);
    out._pieces.push_back(piece{f, 0, written});
    out._size = written;
    return out;
}

void iobuf::trim_front(size_t n) {
    assert(n <= _size);
    _size -= n;
    size_t drop = 0;
    while (n > 0) {
        piece& p = _pieces[drop];
        if (n < p.length) {
            p.offset += n;
            p.length -= n;
            break;
        }
        n -= p.length;
        p.frag->release();
        ++drop;
    }
    _pieces.erase(_pieces.begin(), _pieces.begin() + static_cast<std::ptrdiff_t>(drop));
}

void iobuf::trim_back(size_t n) {
    assert(n <= _size);
    _size -= n;
    while (n > 0) {
        piece& p = _pieces.back();
        if (n < p.length) {
            p.length -= n;
            break;
        }
        n -= p.length;
        p.frag->release();
        _pieces.pop_back();
    }
}

void iobuf::clear() noexcept {
    for (const piece& p : _pieces) {
        p.frag->release();
    }
    _pieces.clear();
    _size = 0;
}

void iobuf::copy_out(size_t pos, std::span<std::byte> dst) const {
    assert(pos + dst.size() <= _size);
    size_t done = 0;
    for (const piece& p : _pieces) {
        if (done == dst.size()) {
            break;
        }
        if (pos >= p.length) {
            pos -= p.length;
            continue;
        }
        const size_t n = std::min(dst.size() - done, p.length - pos);
        std::memcpy(dst.data() + done, p.frag->data() + p.offset + pos, n);
        done += n;
        pos = 0;
    }
}

std::span<const std::byte> iobuf::contiguous(size_t pos, size_t len) const noexcept {
    for (const piece& p : _pieces) {
        if (pos >= p.length) {
            pos -= p.length;
            continue;
        }
        if (pos + len <= p.length) {
            return {p.frag->data() + p.offset + pos, len};
        }
        return {};
    }
    return {};
}

std::byte iobuf::at(size_t pos) const {
    std::byte b{};
    copy_out(pos, {&b, 1});
    return b;
}

std::string iobuf::to_string() const {
    std::string out(_size, '\0');
    copy_out(0, {reinterpret_cast<std::byte*>(out.data()), out.size()});
    return out;
}

std::vector<std::byte> iobuf::to_bytes() const {
    std::vector<std::byte> out(_size);
    copy_out(0, out);
    return out;
}

bool operator==(const iobuf& a, const iobuf& b) {
    if (a._size != b._size) {
        return false;
    }
    // Walk both piece lists in step; no linearisation.
    size_t ia = 0;
    size_t ib = 0;
    size_t oa = 0;
    size_t ob = 0;
    size_t left = a._size;
    while (left > 0) {
        const iobuf::piece& pa = a._pieces[ia];
        const iobuf::piece& pb = b._pieces[ib];
        const size_t n = std::min(pa.length - oa, pb.length - ob);
        if (std::memcmp(pa.frag->data() + pa.offset + oa, pb.frag->data() + pb.offset + ob, n) != 0) {
            return false;
        }
        oa += n;
        ob += n;
        left -= n;
        if (oa == pa.length) {
            ++ia;
            oa = 0;
        }
        if (ob == pb.length) {
            ++ib;
            ob = 0;
        }
    }
    return true;
}

} // namespace ms
