#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/iobuf.h"

namespace ms {
namespace {

constexpr size_t frag_size = fragment::default_size;

// Deterministic, position-dependent bytes, so that a byte copied from the wrong place shows.
std::string pattern(size_t n, uint8_t seed = 0) {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) {
        out[i] = static_cast<char>(static_cast<uint8_t>(seed + i * 31 + (i >> 8)));
    }
    return out;
}

std::string_view view(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// An iobuf holding `text` in one piece per chunk of `chunk` bytes: every chunk is its own fragment.
iobuf fragmented(std::string_view text, size_t chunk) {
    iobuf out;
    for (size_t pos = 0; pos < text.size(); pos += chunk) {
        out.append(iobuf::copy_of(text.substr(pos, chunk)));
    }
    return out;
}

// The concatenation of all pieces, read through piece_bytes (not through copy_out).
std::string pieces_joined(const iobuf& buf) {
    std::string out;
    for (size_t i = 0; i < buf.piece_count(); ++i) {
        out += view(buf.piece_bytes(i));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// fragment

TEST(fragment, allocate_gives_a_unique_fragment_with_room) {
    fragment* small = fragment::allocate(10);
    EXPECT_EQ(small->capacity(), frag_size);
    EXPECT_EQ(small->used(), 0U);
    EXPECT_EQ(small->available(), frag_size);
    EXPECT_TRUE(small->unique());
    small->add_ref();
    EXPECT_FALSE(small->unique());
    small->release();
    EXPECT_TRUE(small->unique());
    small->claim(5);
    EXPECT_EQ(small->used(), 5U);
    EXPECT_EQ(small->available(), frag_size - 5);
    small->release();

    fragment* big = fragment::allocate(frag_size * 3 + 1);
    EXPECT_GE(big->capacity(), frag_size * 3 + 1);
    EXPECT_TRUE(big->unique());
    big->release();
}

TEST(fragment, pooled_fragment_comes_back_reset) {
    fragment* f = fragment::allocate(1);
    f->claim(100);
    f->add_ref();
    f->release();
    f->release();
    fragment* g = fragment::allocate(1); // most likely the same block, from the free list
    EXPECT_EQ(g->used(), 0U);
    EXPECT_TRUE(g->unique());
    g->release();
}

// ---------------------------------------------------------------------------------------------
// construction, append

TEST(iobuf, empty_buffer) {
    const iobuf buf;
    EXPECT_EQ(buf.size(), 0U);
    EXPECT_TRUE(buf.empty());
    EXPECT_EQ(buf.piece_count(), 0U);
    EXPECT_EQ(buf.to_string(), "");
    EXPECT_TRUE(buf.to_bytes().empty());
    EXPECT_EQ(buf, iobuf());
    EXPECT_TRUE(buf.share().empty());
    EXPECT_TRUE(buf.copy().empty());
}

TEST(iobuf, copy_of_both_overloads) {
    const std::string text = pattern(100, 7);
    const iobuf a = iobuf::copy_of(text);
    const iobuf b = iobuf::copy_of(as_bytes(text));
    EXPECT_EQ(a.to_string(), text);
    EXPECT_EQ(b.to_string(), text);
    EXPECT_EQ(a.piece_count(), 1U);
    EXPECT_EQ(a, b);
}

TEST(iobuf, append_small_fills_the_tail_fragment) {
    iobuf buf;
    buf.append("hello");
    buf.append(std::string_view(" "));
    buf.append(as_bytes("world"));
    EXPECT_EQ(buf.size(), 11U);
    EXPECT_FALSE(buf.empty());
    EXPECT_EQ(buf.to_string(), "hello world");
    EXPECT_EQ(buf.piece_count(), 1U);
}

TEST(iobuf, append_nothing_is_a_no_op) {
    iobuf buf;
    buf.append(std::string_view());
    EXPECT_EQ(buf.piece_count(), 0U);
    buf.append("x");
    buf.append(std::span<const std::byte>());
    EXPECT_EQ(buf.to_string(), "x");
    EXPECT_EQ(buf.piece_count(), 1U);
}

TEST(iobuf, append_exactly_fragment_size) {
    const std::string text = pattern(frag_size, 1);
    iobuf buf;
    buf.append(text);
    EXPECT_EQ(buf.size(), frag_size);
    ASSERT_EQ(buf.piece_count(), 1U);
    EXPECT_EQ(buf.piece_bytes(0).size(), frag_size);
    EXPECT_EQ(buf.to_string(), text);

    // The fragment is full: one more byte needs a new one.
    buf.append("!");
    ASSERT_EQ(buf.piece_count(), 2U);
    EXPECT_EQ(buf.piece_bytes(1).size(), 1U);
    EXPECT_EQ(buf.to_string(), text + "!");
}

TEST(iobuf, append_fills_tail_up_to_fragment_size_then_continues) {
    const std::string a = pattern(frag_size - 3, 2);
    const std::string b = pattern(10, 3);
    iobuf buf;
    buf.append(a);
    buf.append(b);
    ASSERT_EQ(buf.piece_count(), 2U);
    EXPECT_EQ(buf.piece_bytes(0).size(), frag_size);
    EXPECT_EQ(buf.piece_bytes(1).size(), 7U);
    EXPECT_EQ(buf.to_string(), a + b);
}

TEST(iobuf, append_large_goes_into_one_exact_block) {
    const std::string big = pattern(40 * 1024 + 5, 4);
    iobuf buf;
    buf.append(big);
    EXPECT_EQ(buf.size(), big.size());
    EXPECT_EQ(buf.piece_count(), 1U);
    EXPECT_EQ(buf.to_string(), big);

    // After a small prefix the tail fragment is filled first, the rest goes in one block.
    iobuf buf2;
    buf2.append("ab");
    buf2.append(big);
    ASSERT_EQ(buf2.piece_count(), 2U);
    EXPECT_EQ(buf2.piece_bytes(0).size(), frag_size);
    EXPECT_EQ(buf2.piece_bytes(1).size(), big.size() + 2 - frag_size);
    EXPECT_EQ(buf2.to_string(), "ab" + big);
}

TEST(iobuf, append_moved_buffer_moves_pieces_without_copying) {
    iobuf a = iobuf::copy_of("abc");
    iobuf b = fragmented("defghi", 2);
    const std::byte* b_first = b.piece_bytes(0).data();
    a.append(std::move(b));
    EXPECT_EQ(a.to_string(), "abcdefghi");
    EXPECT_EQ(a.size(), 9U);
    EXPECT_EQ(a.piece_count(), 4U);
    EXPECT_EQ(a.piece_bytes(1).data(), b_first);
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(b.piece_count(), 0U);

    // Into an empty buffer, and an empty buffer into a full one.
    iobuf empty;
    iobuf c = iobuf::copy_of("xyz");
    empty.append(std::move(c));
    EXPECT_EQ(empty.to_string(), "xyz");
    iobuf nothing;
    empty.append(std::move(nothing));
    EXPECT_EQ(empty.to_string(), "xyz");
    EXPECT_EQ(empty.piece_count(), 1U);

    // Appending a buffer to itself is refused (not a duplication, not a crash).
    empty.append(std::move(empty));
    EXPECT_EQ(empty.to_string(), "xyz"); // NOLINT(bugprone-use-after-move): checks the moved-from state
}

TEST(iobuf, append_moved_adjacent_shares_merge_back_into_one_piece) {
    iobuf first;
    iobuf second;
    {
        const iobuf whole = iobuf::copy_of("abcdef");
        first = whole.share(0, 3);
        second = whole.share(3, 3);
    }
    first.append(std::move(second));
    EXPECT_EQ(first.to_string(), "abcdef");
    EXPECT_EQ(first.piece_count(), 1U);
}

TEST(iobuf, append_share_shares_bytes_and_leaves_source_alone) {
    const iobuf src = fragmented("0123456789", 4);
    iobuf dst = iobuf::copy_of("<");
    dst.append_share(src);
    EXPECT_EQ(dst.to_string(), "<0123456789");
    EXPECT_EQ(src.to_string(), "0123456789");
    EXPECT_EQ(src.piece_count(), 3U);
    ASSERT_EQ(dst.piece_count(), 4U);
    for (size_t i = 0; i < src.piece_count(); ++i) {
        EXPECT_EQ(dst.piece_bytes(i + 1).data(), src.piece_bytes(i).data());
    }
}

TEST(iobuf, append_share_of_itself_doubles) {
    iobuf buf = fragmented("abcde", 2);
    buf.append_share(buf);
    EXPECT_EQ(buf.to_string(), "abcdeabcde");
    EXPECT_EQ(buf.size(), 10U);
    buf.append("!");
    EXPECT_EQ(buf.to_string(), "abcdeabcde!");
}

TEST(iobuf, move_construct_and_assign) {
    iobuf a = iobuf::copy_of("abc");
    iobuf b(std::move(a));
    EXPECT_EQ(b.to_string(), "abc");
    EXPECT_TRUE(a.empty()); // NOLINT(bugprone-use-after-move)
    iobuf c = iobuf::copy_of("zzz");
    c = std::move(b);
    EXPECT_EQ(c.to_string(), "abc");
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move)
    iobuf& alias = c;
    c = std::move(alias);
    EXPECT_EQ(c.to_string(), "abc");
}

// ---------------------------------------------------------------------------------------------
// reserve / commit

TEST(iobuf, reserve_commit_into_empty_buffer) {
    iobuf buf;
    std::span<std::byte> room = buf.reserve(100);
    ASSERT_GE(room.size(), 100U);
    std::memcpy(room.data(), "hello world", 11);
    buf.commit(5);
    EXPECT_EQ(buf.size(), 5U);
    EXPECT_EQ(buf.to_string(), "hello");

    // The next reservation continues in the same fragment, right after the committed bytes.
    std::span<std::byte> more = buf.reserve(10);
    ASSERT_GE(more.size(), 10U);
    EXPECT_EQ(more.data(), buf.piece_bytes(0).data() + 5);
    std::memcpy(more.data(), "!?", 2);
    buf.commit(2);
    EXPECT_EQ(buf.to_string(), "hello!?");
    EXPECT_EQ(buf.piece_count(), 1U);
}

TEST(iobuf, commit_zero_leaves_no_trace) {
    iobuf buf;
    (void)buf.reserve(64);
    buf.commit(0);
    EXPECT_EQ(buf.size(), 0U);
    EXPECT_EQ(buf.piece_count(), 0U);
    EXPECT_EQ(buf.to_string(), "");

    buf.append("abc");
    (void)buf.reserve(8);
    buf.commit(0);
    EXPECT_EQ(buf.to_string(), "abc");
    EXPECT_EQ(buf.piece_count(), 1U);

    // A reservation that needed a new fragment, then unused.
    (void)buf.reserve(frag_size);
    buf.commit(0);
    EXPECT_EQ(buf.to_string(), "abc");
    EXPECT_EQ(buf.piece_count(), 1U);
    buf.append("d");
    EXPECT_EQ(buf.to_string(), "abcd");
}

TEST(iobuf, reserve_larger_than_fragment) {
    iobuf buf = iobuf::copy_of("x");
    const size_t want = frag_size * 2 + 3;
    std::span<std::byte> room = buf.reserve(want);
    ASSERT_GE(room.size(), want);
    const std::string text = pattern(want, 9);
    std::memcpy(room.data(), text.data(), want);
    buf.commit(want);
    EXPECT_EQ(buf.to_string(), "x" + text);
}

TEST(iobuf, reserve_when_tail_too_small_takes_new_fragment) {
    iobuf buf;
    buf.append(pattern(frag_size - 4));
    std::span<std::byte> room = buf.reserve(10);
    ASSERT_GE(room.size(), 10U);
    std::memcpy(room.data(), "0123456789", 10);
    buf.commit(10);
    EXPECT_EQ(buf.to_string(), pattern(frag_size - 4) + "0123456789");
    EXPECT_EQ(buf.piece_count(), 2U);
}

TEST(iobuf, an_uncommitted_reservation_too_small_for_the_next_is_dropped) {
    iobuf buf = iobuf::copy_of("ab");
    (void)buf.reserve(frag_size + 1); // a new fragment, never committed
    const size_t pieces_with_reservation = buf.piece_count();
    std::span<std::byte> room = buf.reserve(frag_size * 3); // needs another new fragment
    EXPECT_EQ(buf.piece_count(), pieces_with_reservation) << "the unused reservation stayed behind";
    std::memcpy(room.data(), "cd", 2);
    buf.commit(2);
    EXPECT_EQ(buf.to_string(), "abcd");
    EXPECT_EQ(buf.piece_count(), 2U);
}

TEST(iobuf, append_share_of_itself_when_its_last_piece_can_merge) {
    // Two pieces of one fragment, the second ending where the first starts: appending a share of
    // the buffer to itself merges the first copy into the last piece, which must not change what
    // is copied next (found by the model-based property under TSan).
    iobuf whole = iobuf::copy_of("ab");
    iobuf buf = whole.share(1, 1); // "b" at offset 1
    buf.append(whole.share(0, 1)); // "a" at offset 0: pieces (1,1) (0,1)
    ASSERT_EQ(buf.piece_count(), 2U);
    buf.append_share(buf);
    EXPECT_EQ(buf.to_string(), "baba");
    EXPECT_EQ(buf.size(), 4U);
}

// ---------------------------------------------------------------------------------------------
// share, copy

TEST(iobuf, share_every_sub_range_of_a_fragmented_buffer) {
    const std::string text = pattern(23, 5);
    const iobuf buf = fragmented(text, 5); // pieces at 0, 5, 10, 15, 20
    ASSERT_EQ(buf.piece_count(), 5U);
    for (size_t pos = 0; pos <= text.size(); ++pos) {
        for (size_t len = 0; pos + len <= text.size(); ++len) {
            const iobuf s = buf.share(pos, len);
            ASSERT_EQ(s.size(), len) << pos << "+" << len;
            ASSERT_EQ(s.to_string(), text.substr(pos, len)) << pos << "+" << len;
            ASSERT_EQ(pieces_joined(s), text.substr(pos, len));
        }
    }
    EXPECT_EQ(buf.to_string(), text);
}

TEST(iobuf, share_at_fragment_boundaries_uses_exactly_the_pieces_needed) {
    const iobuf buf = fragmented("aaaaabbbbbccccc", 5);
    const iobuf second = buf.share(5, 5);
    ASSERT_EQ(second.piece_count(), 1U);
    EXPECT_EQ(second.to_string(), "bbbbb");
    EXPECT_EQ(second.piece_bytes(0).data(), buf.piece_bytes(1).data()); // zero copy

    const iobuf straddle = buf.share(4, 2);
    EXPECT_EQ(straddle.piece_count(), 2U);
    EXPECT_EQ(straddle.to_string(), "ab");

    const iobuf tail = buf.share(10, 5);
    EXPECT_EQ(tail.piece_count(), 1U);
    EXPECT_EQ(tail.to_string(), "ccccc");

    const iobuf none = buf.share(15, 0);
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.piece_count(), 0U);

    const iobuf all = buf.share();
    EXPECT_EQ(all, buf);
    EXPECT_EQ(all.piece_count(), 3U);
}

TEST(iobuf, share_outlives_the_original) {
    iobuf s;
    {
        const iobuf buf = iobuf::copy_of(pattern(1000, 3));
        s = buf.share(100, 50);
    }
    EXPECT_EQ(s.to_string(), pattern(1000, 3).substr(100, 50));
}

TEST(iobuf, copy_duplicates_into_one_fragment) {
    const std::string text = pattern(3 * frag_size + 17, 6);
    iobuf buf = fragmented(text, 1000);
    const iobuf c = buf.copy();
    EXPECT_EQ(c.to_string(), text);
    EXPECT_EQ(c.piece_count(), 1U);
    EXPECT_NE(c.piece_bytes(0).data(), buf.piece_bytes(0).data());
    EXPECT_EQ(c, buf);
    buf.trim_front(10);
    buf.append("more");
    EXPECT_EQ(c.to_string(), text);

    const iobuf small = iobuf::copy_of("abc").copy();
    EXPECT_EQ(small.to_string(), "abc");
    EXPECT_EQ(small.piece_count(), 1U);
}

// Sharing freezes bytes: appending to either side never changes what the other one sees.
TEST(iobuf, append_after_share_does_not_modify_shared_bytes) {
    iobuf original = iobuf::copy_of("abc");
    iobuf s = original.share();
    original.append("def");
    EXPECT_EQ(s.to_string(), "abc");
    EXPECT_EQ(original.to_string(), "abcdef");
    // The shared fragment is not written into (another thread may be appending to the share):
    // the new bytes went to a fresh fragment.
    EXPECT_EQ(original.piece_count(), 2U);

    // And the other way round: the share appending must not overwrite the original's new bytes.
    s.append("XYZ");
    EXPECT_EQ(s.to_string(), "abcXYZ");
    EXPECT_EQ(original.to_string(), "abcdef");
}

TEST(iobuf, append_after_trim_back_does_not_overwrite_a_share_of_the_trimmed_bytes) {
    iobuf original = iobuf::copy_of("abcdef");
    const iobuf tail = original.share(3, 3);
    original.trim_back(3);
    original.append("123");
    EXPECT_EQ(tail.to_string(), "def");
    EXPECT_EQ(original.to_string(), "abc123");
}

TEST(iobuf, reserve_after_share_does_not_hand_out_shared_tail) {
    iobuf original = iobuf::copy_of("abc");
    const iobuf s = original.share(1, 2);
    std::span<std::byte> room = original.reserve(3);
    ASSERT_GE(room.size(), 3U);
    std::memcpy(room.data(), "zzz", 3);
    original.commit(3);
    EXPECT_EQ(original.to_string(), "abczzz");
    EXPECT_EQ(s.to_string(), "bc");

    // The share can grow too, without touching the original.
    iobuf grown = s.share();
    grown.append("!!!!");
    EXPECT_EQ(grown.to_string(), "bc!!!!");
    EXPECT_EQ(original.to_string(), "abczzz");
}

TEST(iobuf, append_after_share_released_may_reuse_tail) {
    iobuf original = iobuf::copy_of("abc");
    { const iobuf s = original.share(); }
    original.append("def");
    EXPECT_EQ(original.to_string(), "abcdef");
    EXPECT_EQ(original.piece_count(), 1U); // sole owner again: the tail was filled in place
}

// ---------------------------------------------------------------------------------------------
// trim

TEST(iobuf, trim_front_every_amount_across_pieces) {
    const std::string text = pattern(17, 8);
    for (size_t n = 0; n <= text.size(); ++n) {
        iobuf buf = fragmented(text, 4);
        buf.trim_front(n);
        ASSERT_EQ(buf.size(), text.size() - n);
        ASSERT_EQ(buf.to_string(), text.substr(n));
        ASSERT_EQ(pieces_joined(buf), text.substr(n));
        // Pieces wholly trimmed are dropped: left are those ending after n (ends 4, 8, 12, 16, 17).
        size_t left = 0;
        for (const size_t end : {4U, 8U, 12U, 16U, 17U}) {
            left += end > n ? 1 : 0;
        }
        ASSERT_EQ(buf.piece_count(), left) << n;
    }
}

TEST(iobuf, trim_back_every_amount_across_pieces) {
    const std::string text = pattern(17, 9);
    for (size_t n = 0; n <= text.size(); ++n) {
        iobuf buf = fragmented(text, 4);
        buf.trim_back(n);
        ASSERT_EQ(buf.size(), text.size() - n);
        ASSERT_EQ(buf.to_string(), text.substr(0, text.size() - n));
        ASSERT_EQ(pieces_joined(buf), text.substr(0, text.size() - n));
        // Pieces wholly trimmed are dropped, never left empty.
        for (size_t i = 0; i < buf.piece_count(); ++i) {
            ASSERT_GT(buf.piece_bytes(i).size(), 0U);
        }
    }
}

TEST(iobuf, trim_then_append) {
    iobuf buf = fragmented("0123456789", 3);
    buf.trim_front(4);
    buf.trim_back(2);
    EXPECT_EQ(buf.to_string(), "4567");
    buf.append("ab");
    EXPECT_EQ(buf.to_string(), "4567ab");
    buf.trim_front(6);
    EXPECT_TRUE(buf.empty());
    EXPECT_EQ(buf.piece_count(), 0U);
    buf.append("z");
    EXPECT_EQ(buf.to_string(), "z");
}

TEST(iobuf, clear_empties) {
    iobuf buf = fragmented("0123456789", 3);
    buf.clear();
    EXPECT_TRUE(buf.empty());
    EXPECT_EQ(buf.piece_count(), 0U);
    buf.append("x");
    EXPECT_EQ(buf.to_string(), "x");
}

// ---------------------------------------------------------------------------------------------
// reading

TEST(iobuf, copy_out_every_sub_range) {
    const std::string text = pattern(19, 10);
    const iobuf buf = fragmented(text, 4);
    for (size_t pos = 0; pos <= text.size(); ++pos) {
        for (size_t len = 0; pos + len <= text.size(); ++len) {
            std::string out(len, '\0');
            buf.copy_out(pos, {reinterpret_cast<std::byte*>(out.data()), len});
            ASSERT_EQ(out, text.substr(pos, len)) << pos << "+" << len;
        }
    }
}

TEST(iobuf, contiguous_only_within_one_piece) {
    const iobuf buf = fragmented("aaaabbbbcc", 4);
    auto in_first = buf.contiguous(1, 3);
    EXPECT_EQ(view(in_first), "aaa");
    auto whole_second = buf.contiguous(4, 4);
    EXPECT_EQ(view(whole_second), "bbbb");
    EXPECT_EQ(whole_second.data(), buf.piece_bytes(1).data());
    EXPECT_TRUE(buf.contiguous(3, 2).empty()); // straddles pieces 0 and 1
    EXPECT_TRUE(buf.contiguous(0, 10).empty());
    EXPECT_EQ(view(buf.contiguous(8, 2)), "cc");
    EXPECT_TRUE(buf.contiguous(10, 0).empty());
    EXPECT_TRUE(buf.contiguous(9, 5).empty()); // runs past the end

    const iobuf one = iobuf::copy_of("0123456789");
    EXPECT_EQ(view(one.contiguous(0, 10)), "0123456789");
    EXPECT_EQ(view(one.contiguous(2, 5)), "23456");
}

TEST(iobuf, at_every_position) {
    const std::string text = pattern(13, 11);
    const iobuf buf = fragmented(text, 3);
    for (size_t i = 0; i < text.size(); ++i) {
        ASSERT_EQ(buf.at(i), static_cast<std::byte>(text[i])) << i;
    }
}

TEST(iobuf, to_string_and_to_bytes) {
    const std::string text = pattern(2 * frag_size + 5, 12);
    const iobuf buf = fragmented(text, frag_size - 1);
    EXPECT_EQ(buf.to_string(), text);
    const std::vector<std::byte> bytes = buf.to_bytes();
    ASSERT_EQ(bytes.size(), text.size());
    EXPECT_EQ(std::memcmp(bytes.data(), text.data(), text.size()), 0);
}

TEST(iobuf, equality_ignores_fragmentation) {
    const std::string text = pattern(50, 13);
    const iobuf one = iobuf::copy_of(text);
    const iobuf threes = fragmented(text, 3);
    const iobuf sevens = fragmented(text, 7);
    EXPECT_EQ(one, threes);
    EXPECT_EQ(threes, sevens);
    EXPECT_EQ(sevens, one);

    std::string last_differs = text;
    last_differs.back() = static_cast<char>(last_differs.back() ^ 1);
    EXPECT_FALSE(fragmented(last_differs, 7) == threes);
    std::string first_differs = text;
    first_differs.front() = static_cast<char>(first_differs.front() ^ 0x80);
    EXPECT_FALSE(fragmented(first_differs, 4) == threes);
    EXPECT_FALSE(fragmented(text.substr(0, 49), 3) == one);
    EXPECT_FALSE(one == iobuf());    // NOLINT(readability-container-size-empty): the test checks operator==
    EXPECT_TRUE(iobuf() == iobuf()); // NOLINT(readability-container-size-empty)
}

// ---------------------------------------------------------------------------------------------
// pool

TEST(fragment_pool, released_default_fragments_are_reused) {
    { iobuf warm = iobuf::copy_of("warm"); } // the pool now holds at least one fragment
    const size_t before = this_thread_fragment_pool_stats().allocated;
    for (int i = 0; i < 1000; ++i) {
        iobuf buf = iobuf::copy_of(pattern(100, static_cast<uint8_t>(i)));
        ASSERT_EQ(this_thread_fragment_pool_stats().allocated, before) << i;
    }
    EXPECT_EQ(this_thread_fragment_pool_stats().allocated, before);
}

TEST(fragment_pool, release_returns_fragment_to_this_threads_cache) {
    iobuf buf = iobuf::copy_of("abc");
    const size_t cached = this_thread_fragment_pool_stats().cached;
    buf.clear();
    EXPECT_EQ(this_thread_fragment_pool_stats().cached, cached + 1);
}

TEST(fragment_pool, large_blocks_are_not_cached) {
    const size_t cached = this_thread_fragment_pool_stats().cached;
    const size_t allocated = this_thread_fragment_pool_stats().allocated;
    {
        const iobuf big = iobuf::copy_of(pattern(3 * frag_size));
        EXPECT_EQ(big.piece_count(), 1U);
    }
    EXPECT_EQ(this_thread_fragment_pool_stats().cached, cached);
    EXPECT_EQ(this_thread_fragment_pool_stats().allocated, allocated + 1);
}

TEST(fragment_pool, prefill_makes_later_allocations_free) {
    constexpr size_t count = 32;
    prefill_fragment_pool(count);
    EXPECT_GE(this_thread_fragment_pool_stats().cached, count);
    const size_t allocated = this_thread_fragment_pool_stats().allocated;
    std::vector<iobuf> held;
    for (size_t i = 0; i < count; ++i) {
        held.push_back(iobuf::copy_of(pattern(frag_size, static_cast<uint8_t>(i))));
    }
    EXPECT_EQ(this_thread_fragment_pool_stats().allocated, allocated);
    held.clear();
    EXPECT_GE(this_thread_fragment_pool_stats().cached, count);

    // Prefilling again with a full enough pool allocates nothing.
    prefill_fragment_pool(count);
    EXPECT_EQ(this_thread_fragment_pool_stats().allocated, allocated);
}

// ---------------------------------------------------------------------------------------------
// threads

// Shares handed to another thread and released there: the bytes stay intact for both sides and
// fragments whose last reference dies over there join that thread's cache (freed at its exit; a
// leak would show under ASan).
TEST(iobuf, shares_released_on_another_thread) {
    const std::string text = pattern(5 * frag_size + 123, 14);
    iobuf original = fragmented(text, frag_size);
    ASSERT_EQ(original.piece_count(), 6U);

    std::vector<iobuf> shares;
    for (size_t i = 0; i < 50; ++i) {
        const size_t pos = (i * 997) % text.size();
        shares.push_back(original.share(pos, std::min<size_t>(3000, text.size() - pos)));
    }
    std::string seen_errors;
    std::thread worker([&shares, &text, &seen_errors] {
        for (size_t i = 0; i < shares.size(); ++i) {
            const size_t pos = (i * 997) % text.size();
            if (shares[i].to_string() != text.substr(pos, std::min<size_t>(3000, text.size() - pos))) {
                seen_errors += "share " + std::to_string(i) + " differs; ";
            }
        }
        shares.clear();
    });
    // Meanwhile this thread keeps working on the original (its own object; only the fragment
    // reference counts are touched by both).
    for (int round = 0; round < 200; ++round) {
        iobuf tmp = original.share(static_cast<size_t>(round), 100);
        tmp.append("x");
    }
    worker.join();
    EXPECT_EQ(seen_errors, "");
    EXPECT_EQ(original.to_string(), text);
}

TEST(iobuf, last_reference_dropped_on_another_thread_goes_to_its_cache) {
    iobuf buf = fragmented(pattern(size_t{3} * 100), 100); // three default-size fragments
    ASSERT_EQ(buf.piece_count(), 3U);
    const size_t cached_here = this_thread_fragment_pool_stats().cached;
    size_t worker_cached_before = 0;
    size_t worker_cached_after = 0;
    std::thread worker([&] {
        worker_cached_before = this_thread_fragment_pool_stats().cached;
        buf.clear();
        worker_cached_after = this_thread_fragment_pool_stats().cached;
    });
    worker.join();
    EXPECT_EQ(worker_cached_before, 0U);
    EXPECT_EQ(worker_cached_after, 3U);
    EXPECT_EQ(this_thread_fragment_pool_stats().cached, cached_here);
}

TEST(iobuf, many_threads_release_shares_concurrently) {
    const std::string text = pattern(4 * frag_size, 15);
    std::vector<std::thread> workers;
    {
        const iobuf original = fragmented(text, frag_size / 2);
        for (int t = 0; t < 4; ++t) {
            std::vector<iobuf> mine;
            mine.reserve(200);
            for (int i = 0; i < 200; ++i) {
                mine.push_back(original.share(static_cast<size_t>(i) * 97 + static_cast<size_t>(t), 5000));
            }
            workers.emplace_back([batch = std::move(mine)]() mutable {
                for (iobuf& b : batch) {
                    b.append("tail"); // never into a shared fragment: must not corrupt others
                }
                batch.clear();
            });
        }
        EXPECT_EQ(original.to_string(), text);
    } // the original's references may die before or after the workers' ones
    for (std::thread& w : workers) {
        w.join();
    }
}

// ---------------------------------------------------------------------------------------------
// model-based property

// Bytes for an append: sizes cluster where the fragment logic has edges (tiny, around one
// fragment, and several fragments).
size_t gen_append_size() {
    switch (*rc::gen::inRange(0, 4)) {
    case 0: return *rc::gen::inRange<size_t>(0, 64);
    case 1: return *rc::gen::inRange<size_t>(frag_size - 8, frag_size + 9);
    case 2: return *rc::gen::inRange<size_t>(0, frag_size);
    default: return *rc::gen::inRange<size_t>(0, 40 * 1024 + 1);
    }
}

struct held_share {
    iobuf buf;
    std::string expected;
};

RC_GTEST_PROP(iobuf_model, random_operations_match_a_string_model, ()) {
    iobuf buf;
    std::string model;
    // Shares kept alive across operations: they make fragments non-unique, and their bytes must
    // never change whatever happens to `buf`.
    std::vector<held_share> held;

    const int steps = *rc::gen::inRange(1, 60);
    for (int step = 0; step < steps; ++step) {
        const int op = *rc::gen::inRange(0, 12);
        switch (op) {
        case 0: { // append bytes
            const size_t n = gen_append_size();
            const std::string text = pattern(n, *rc::gen::arbitrary<uint8_t>());
            buf.append(text);
            model += text;
            break;
        }
        case 1: { // append a share of itself
            if (model.size() > size_t{64} * 1024) {
                break;
            }
            buf.append_share(buf);
            model += model;
            break;
        }
        case 2: { // trim_front
            const size_t n = *rc::gen::inRange<size_t>(0, model.size() + 1);
            buf.trim_front(n);
            model.erase(0, n);
            break;
        }
        case 3: { // trim_back
            const size_t n = *rc::gen::inRange<size_t>(0, model.size() + 1);
            buf.trim_back(n);
            model.resize(model.size() - n);
            break;
        }
        case 4: { // share a sub-range and replace
            const size_t pos = *rc::gen::inRange<size_t>(0, model.size() + 1);
            const size_t len = *rc::gen::inRange<size_t>(0, model.size() - pos + 1);
            buf = buf.share(pos, len);
            model = model.substr(pos, len);
            break;
        }
        case 5: { // move-append a fresh, fragmented buffer
            const size_t n = gen_append_size();
            const std::string text = pattern(n, *rc::gen::arbitrary<uint8_t>());
            const size_t chunk = *rc::gen::inRange<size_t>(1, 5000);
            buf.append(fragmented(text, chunk));
            model += text;
            break;
        }
        case 6: { // move-append a share of a sub-range of itself
            const size_t pos = *rc::gen::inRange<size_t>(0, model.size() + 1);
            const size_t len = *rc::gen::inRange<size_t>(0, model.size() - pos + 1);
            buf.append(buf.share(pos, len));
            model += model.substr(pos, len);
            break;
        }
        case 7: { // copy
            buf = buf.copy();
            break;
        }
        case 8: { // reserve / commit
            const size_t want = gen_append_size();
            const size_t n = *rc::gen::inRange<size_t>(0, want + 1);
            const std::string text = pattern(n, *rc::gen::arbitrary<uint8_t>());
            std::span<std::byte> room = buf.reserve(want);
            RC_ASSERT(room.size() >= want);
            std::memcpy(room.data(), text.data(), n);
            buf.commit(n);
            model += text;
            break;
        }
        case 9: { // keep a share of a sub-range alive
            const size_t pos = *rc::gen::inRange<size_t>(0, model.size() + 1);
            const size_t len = *rc::gen::inRange<size_t>(0, model.size() - pos + 1);
            held.push_back({buf.share(pos, len), model.substr(pos, len)});
            break;
        }
        case 10: { // drop a held share
            if (!held.empty()) {
                const size_t i = *rc::gen::inRange<size_t>(0, held.size());
                held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
            }
            break;
        }
        default: { // append to a held share: must not disturb buf nor other shares
            if (!held.empty()) {
                const size_t i = *rc::gen::inRange<size_t>(0, held.size());
                const std::string text = pattern(*rc::gen::inRange<size_t>(1, 100), 0x5A);
                held[i].buf.append(text);
                held[i].expected += text;
            }
            break;
        }
        }
        RC_ASSERT(buf.size() == model.size());
        RC_ASSERT(buf.to_string() == model);
        RC_ASSERT(pieces_joined(buf) == model);
        for (const held_share& h : held) {
            RC_ASSERT(h.buf.to_string() == h.expected);
        }
        if (!model.empty()) {
            const size_t i = *rc::gen::inRange<size_t>(0, model.size());
            RC_ASSERT(buf.at(i) == static_cast<std::byte>(model[i]));
        }
    }
    RC_ASSERT(buf == iobuf::copy_of(model));
}

} // namespace
} // namespace ms
