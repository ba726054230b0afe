// Two containers for smsc-sim's connections: a growable byte buffer that
// is never zero-filled (read buffers and output buffers), and a FIFO ring
// (delayed responses and receipts). Both keep their memory once grown, so
// a connection in a steady state does not allocate per PDU.
//
// Not thread-safe: each instance belongs to one connection on one
// io_context thread.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace smpp::detail {

class byte_buffer {
 public:
  std::uint8_t* data() noexcept { return data_.get(); }
  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept { size_ = 0; }

  // Room for at least `n` octets past size(); returns where they start.
  // Grows by doubling, keeping the contents.
  std::uint8_t* prepare(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept {
    assert(size_ + n <= capacity_);
    size_ += n;
  }
  // Drops the first `n` octets, moving the rest (a partial PDU, at most one
  // PDU long) to the front.
  void consume(std::size_t n) noexcept {
    assert(n <= size_);
    if (n == size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }

 private:
  void grow(std::size_t need) {
    std::size_t cap = capacity_ ? capacity_ : 4096;
    while (cap < need) cap *= 2;
    auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(cap);
    if (size_) std::memcpy(fresh.get(), data_.get(), size_);
    data_ = std::move(fresh);
    capacity_ = cap;
  }

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// First in, first out, over a power-of-two vector that doubles when full.
template <class T>
class ring {
 public:
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  T& front() noexcept {
    assert(count_ > 0);
    return items_[head_];
  }
  void push_back(T value) {
    if (count_ == items_.size()) grow();
    items_[(head_ + count_) & (items_.size() - 1)] = std::move(value);
    ++count_;
  }
  void pop_front() noexcept {
    assert(count_ > 0);
    head_ = (head_ + 1) & (items_.size() - 1);
    --count_;
  }

 private:
  void grow() {
    std::vector<T> bigger(items_.empty() ? 64 : items_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i)
      bigger[i] = std::move(items_[(head_ + i) & (items_.size() - 1)]);
    items_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> items_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace smpp::detail
