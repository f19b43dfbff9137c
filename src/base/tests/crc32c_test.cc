#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/crc32c.h"

namespace ms {
namespace {

using extend_fn = uint32_t (*)(uint32_t, const void*, size_t) noexcept;

struct implementation {
    std::string name;
    extend_fn extend;
};

// Every implementation this CPU can run, including the dispatching entry point. The bitwise
// reference is not listed: it is what the others are checked against.
std::vector<implementation> implementations() {
    std::vector<implementation> impls{
      {"crc32c",
       [](uint32_t crc, const void* data, size_t size) noexcept { return crc32c(crc, data, size); }},
      {"portable", &crc32c_detail::extend_portable},
      {"table", &crc32c_detail::extend_table},
    };
    if (crc32c_detail::cpu_has_sse42()) {
        impls.push_back({"sse42", &crc32c_detail::extend_sse42});
    }
    if (crc32c_detail::cpu_has_vpclmul()) {
        impls.push_back({"vpclmul", &crc32c_detail::extend_vpclmul});
    }
    if (crc32c_detail::cpu_has_vpclmul_avx2()) {
        impls.push_back({"vpclmul_avx2", &crc32c_detail::extend_vpclmul_avx2});
    }
    return impls;
}

std::vector<unsigned char> random_bytes(size_t size, uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::vector<unsigned char> bytes(size);
    for (auto& b : bytes) {
        b = static_cast<unsigned char>(engine());
    }
    return bytes;
}

struct published_vector {
    std::string name;
    std::vector<unsigned char> bytes;
    uint32_t crc;
};

std::vector<published_vector> published_vectors() {
    std::vector<published_vector> vectors;
    vectors.push_back({"empty", {}, 0});
    const std::string_view check = "123456789";
    vectors.push_back({"123456789", {check.begin(), check.end()}, 0xE3069283});
    // RFC 3720 appendix B.4.
    vectors.push_back({"32 zeros", std::vector<unsigned char>(32, 0x00), 0x8A9136AA});
    vectors.push_back({"32 ones", std::vector<unsigned char>(32, 0xFF), 0x62A8AB43});
    std::vector<unsigned char> ascending(32);
    std::vector<unsigned char> descending(32);
    for (size_t i = 0; i < 32; ++i) {
        ascending[i] = static_cast<unsigned char>(i);
        descending[i] = static_cast<unsigned char>(31 - i);
    }
    vectors.push_back({"32 ascending", ascending, 0x46DD794E});
    vectors.push_back({"32 descending", descending, 0x113FDB5C});
    vectors.push_back(
      {"iSCSI read command PDU",
       {0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},
       0xD9963A56});
    return vectors;
}

TEST(crc32c, published_vectors) {
    auto impls = implementations();
    impls.push_back({"bitwise", &crc32c_detail::extend_bitwise});
    for (const auto& v : published_vectors()) {
        for (const auto& impl : impls) {
            EXPECT_EQ(impl.extend(0, v.bytes.data(), v.bytes.size()), v.crc) << impl.name << " on " << v.name;
        }
    }
}

TEST(crc32c, span_overload_matches_pointer_overload) {
    const std::string_view check = "123456789";
    const auto bytes = std::as_bytes(std::span(check));
    EXPECT_EQ(crc32c(0, bytes), 0xE3069283U);
    EXPECT_EQ(crc32c(crc32c(0, bytes.first(4)), bytes.subspan(4)), 0xE3069283U);
}

TEST(crc32c, empty_input_leaves_crc_unchanged) {
    for (const auto& impl : implementations()) {
        EXPECT_EQ(impl.extend(0, nullptr, 0), 0U) << impl.name;
        EXPECT_EQ(impl.extend(0xDEADBEEF, nullptr, 0), 0xDEADBEEFU) << impl.name;
    }
}

TEST(crc32c, dispatches_to_hardware_when_available) {
    const std::string_view expected = crc32c_detail::cpu_has_vpclmul()        ? "vpclmulqdq-avx512"
                                      : crc32c_detail::cpu_has_vpclmul_avx2() ? "vpclmulqdq-avx2"
                                      : crc32c_detail::cpu_has_sse42()        ? "sse4.2"
                                                                              : "portable";
    EXPECT_EQ(crc32c_implementation(), expected);
}

// Covers the alignment prologue and every tail length of the word loops, at every alignment.
TEST(crc32c, every_length_up_to_1024_matches_bitwise) {
    const auto bytes = random_bytes(1024 + 8, 1);
    const auto impls = implementations();
    for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t size = 0; size <= 1024; ++size) {
            const uint32_t start = static_cast<uint32_t>(size * 0x9E3779B9U);
            const uint32_t expected = crc32c_detail::extend_bitwise(start, bytes.data() + offset, size);
            for (const auto& impl : impls) {
                ASSERT_EQ(impl.extend(start, bytes.data() + offset, size), expected)
                  << impl.name << " offset " << offset << " size " << size;
            }
        }
    }
}

// The folding paths take 256 (AVX-512) or 128 (AVX2) bytes and more in blocks of that size and
// leave the rest to the crc32 instruction: every size from just below the smaller block to eight
// of the larger, so every block count from one to eight (to sixteen for AVX2) with every tail.
TEST(crc32c, folding_block_counts_and_tails_match_bitwise) {
    constexpr size_t avx2_block = 128;
    constexpr size_t avx512_block = 256;
    constexpr size_t largest = 8 * avx512_block;
    const auto bytes = random_bytes(largest + 8, 3);
    const auto impls = implementations();
    for (size_t size = avx2_block - 1; size <= largest; ++size) {
        const size_t offset = size % 8;
        const uint32_t start = static_cast<uint32_t>(size * 0x2545F491U);
        const uint32_t expected = crc32c_detail::extend_bitwise(start, bytes.data() + offset, size);
        for (const auto& impl : impls) {
            ASSERT_EQ(impl.extend(start, bytes.data() + offset, size), expected)
              << impl.name << " offset " << offset << " size " << size;
        }
    }
}

// The hardware path switches between three-lane blocks of 3 * 8192 and 3 * 256 bytes and a
// single-stream tail; an error in the lane combination shows up just past those thresholds.
TEST(crc32c, lane_block_boundaries_match_bitwise) {
    constexpr size_t long_block = size_t{3} * 8192;
    constexpr size_t short_block = size_t{3} * 256;
    const std::vector<size_t> sizes = {
      short_block - 1,
      short_block,
      short_block + 1,
      2 * short_block + 8,
      long_block - 1,
      long_block,
      long_block + 1,
      long_block + short_block,
      2 * long_block + short_block + 7,
      5 * long_block + 3 * short_block + 15,
    };
    const auto bytes = random_bytes(sizes.back() + 8, 2);
    const auto impls = implementations();
    for (const size_t size : sizes) {
        for (size_t offset = 0; offset < 8; ++offset) {
            const uint32_t expected = crc32c_detail::extend_bitwise(0x12345678, bytes.data() + offset, size);
            for (const auto& impl : impls) {
                EXPECT_EQ(impl.extend(0x12345678, bytes.data() + offset, size), expected)
                  << impl.name << " offset " << offset << " size " << size;
            }
        }
    }
}

RC_GTEST_PROP(crc32c, matches_bitwise_on_random_input, ()) {
    const auto size = *rc::gen::inRange<size_t>(0, 200001);
    const auto offset = *rc::gen::inRange<size_t>(0, 64);
    const auto seed = *rc::gen::arbitrary<uint64_t>();
    const auto start = *rc::gen::arbitrary<uint32_t>();
    const auto bytes = random_bytes(offset + size, seed);
    const unsigned char* data = bytes.data() + offset;

    const uint32_t expected = crc32c_detail::extend_bitwise(start, data, size);
    for (const auto& impl : implementations()) {
        RC_ASSERT(impl.extend(start, data, size) == expected);
    }
}

// Chunked computation must not depend on where the chunks split, nor on which implementation
// computed each chunk (e.g. a batch checksummed piece by piece across iobuf fragments).
RC_GTEST_PROP(crc32c, extension_is_independent_of_split, ()) {
    const auto size = *rc::gen::inRange<size_t>(0, 100001);
    const auto split = *rc::gen::inRange<size_t>(0, size + 1);
    const auto seed = *rc::gen::arbitrary<uint64_t>();
    const auto bytes = random_bytes(size, seed);
    const auto impls = implementations();

    const uint32_t whole = crc32c(0, bytes.data(), size);
    for (const auto& first : impls) {
        for (const auto& second : impls) {
            const uint32_t head = first.extend(0, bytes.data(), split);
            RC_ASSERT(second.extend(head, bytes.data() + split, size - split) == whole);
        }
    }
}

} // namespace
} // namespace ms
