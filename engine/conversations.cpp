#include "engine/conversations.hpp"

#include <algorithm>
#include <cstdio>

namespace engine {

namespace {

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A number's digits, a leading "00" dropped: every form of it is one key.
std::string digits(std::string_view number) {
  std::string k;
  for (char c : number)
    if (c >= '0' && c <= '9') k.push_back(c);
  if (k.size() > 2 && k[0] == '0' && k[1] == '0') k.erase(0, 2);
  return k;
}

// Reference codes quoted in a text: '#' and 4 digits.
std::vector<std::string> codes_in(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t i = text.find('#'); i != std::string_view::npos; i = text.find('#', i + 1)) {
    std::size_t n = 0;
    while (i + 1 + n < text.size() && text[i + 1 + n] >= '0' && text[i + 1 + n] <= '9') ++n;
    if (n == 4) out.emplace_back(text.substr(i, 5));
  }
  return out;
}

}  // namespace

conversation_book::conversation_book(storage::reply_store& store, std::vector<std::string> reply_numbers,
                                     std::chrono::milliseconds window, std::function<std::int64_t()> now_us)
    : store_(store),
      pool_(std::move(reply_numbers)),
      window_(std::chrono::duration_cast<std::chrono::microseconds>(window)),
      now_us_(now_us ? std::move(now_us) : system_now_us),
      next_id_(store.max_conversation_id()) {}

void conversation_book::load(std::error_code& ec) {
  auto list = store_.conversations_since(now_us_() - window_.count(), ec);
  std::lock_guard lock(mutex_);
  for (auto& c : list) by_customer_[digits(c.customer)].push_back(std::move(c));
}

std::vector<const storage::conversation_record*> conversation_book::open_of(const std::string& key,
                                                                           std::int64_t now) const {
  std::vector<const storage::conversation_record*> out;
  auto it = by_customer_.find(key);
  if (it == by_customer_.end()) return out;
  for (const auto& c : it->second)
    if (c.expires_us > now) out.push_back(&c);
  return out;
}

conversation_book::opening conversation_book::pick(std::string_view customer) {
  std::lock_guard lock(mutex_);
  const auto open = open_of(digits(customer), now_us_());
  opening o;
  // The first pool number none of the customer's open conversations uses;
  // with the pool exhausted, the one whose last use is oldest.
  std::int64_t oldest = INT64_MAX;
  for (const auto& n : pool_) {
    std::int64_t last = 0;
    for (const auto* c : open)
      if (digits(c->number) == digits(n)) last = std::max(last, c->opened_us);
    if (last == 0) {
      o.number = n;
      break;
    }
    if (last < oldest) oldest = last, o.number = n;
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    char code[8];
    std::snprintf(code, sizeof code, "#%04u", static_cast<unsigned>(1000 + random_() % 9000));
    o.code = code;
    if (std::none_of(open.begin(), open.end(), [&](const auto* c) { return c->code == o.code; })) break;
  }
  return o;
}

void conversation_book::carry_code(std::string& text, std::string_view code) {
  if (auto at = text.find("#REF"); at != std::string::npos)
    text.replace(at, 4, code);
  else
    text.append(" ").append(code);
}

storage::conversation_record conversation_book::open(std::string_view customer, const opening& o,
                                                     std::uint64_t message_id, std::string_view campaign,
                                                     std::uint64_t* ticket, std::error_code& ec) {
  std::lock_guard lock(mutex_);
  storage::conversation_record c;
  c.id = ++next_id_;
  c.customer = std::string(customer);
  c.number = o.number;
  c.code = o.code;
  c.message_id = message_id;
  c.campaign = std::string(campaign);
  c.opened_us = now_us_();
  c.expires_us = c.opened_us + window_.count();
  const std::uint64_t t = store_.put_conversation(c, ec);
  if (ticket) *ticket = t;
  if (ec) return c;
  auto& list = by_customer_[digits(customer)];
  std::erase_if(list, [&](const auto& old) { return old.expires_us <= c.opened_us; });
  list.push_back(c);
  return c;
}

conversation_book::match_result conversation_book::match(std::string_view customer, std::string_view to_number,
                                                         std::string_view text) const {
  std::lock_guard lock(mutex_);
  const std::string key = digits(customer);
  auto open = open_of(key, now_us_());
  std::vector<const storage::conversation_record*> on_number;
  for (const auto* c : open)
    if (digits(c->number) == digits(to_number)) on_number.push_back(c);
  if (on_number.size() == 1) return {on_number[0]->id, storage::match_method::number};
  // Several open conversations on that number (the pool ran out): the
  // code or recency decides among them.
  if (!on_number.empty()) open = on_number;
  for (const auto& code : codes_in(text))
    for (const auto* c : open)
      if (c->code == code) return {c->id, storage::match_method::code};
  if (open.empty()) return {};
  const auto* recent = *std::max_element(open.begin(), open.end(),
                                         [](const auto* a, const auto* b) { return a->opened_us < b->opened_us; });
  return {recent->id, storage::match_method::recent};
}

std::uint64_t conversation_book::record_reply(std::string_view customer, std::uint64_t id, const std::string& answer,
                                              std::int64_t at_us, std::error_code& ec) {
  std::lock_guard lock(mutex_);
  auto it = by_customer_.find(digits(customer));
  if (it == by_customer_.end()) return 0;
  for (auto& c : it->second) {
    if (c.id != id) continue;
    ++c.replies;
    c.last_reply_us = at_us;
    if (!answer.empty()) c.answer = answer;
    return store_.put_conversation(c, ec);
  }
  return 0;
}

bool conversation_book::is_open(std::string_view customer, std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  const auto open = open_of(digits(customer), now_us_());
  return std::any_of(open.begin(), open.end(), [id](const auto* c) { return c->id == id; });
}

std::vector<storage::conversation_record> conversation_book::of(std::string_view customer, std::error_code& ec) const {
  return store_.conversations_of(customer, 100, ec);
}

std::optional<storage::conversation_record> conversation_book::get(std::uint64_t id, std::error_code& ec) const {
  return store_.conversation(id, ec);
}

std::vector<storage::conversation_record> conversation_book::of_campaign(std::string_view campaign,
                                                                        std::uint64_t after_id, std::size_t limit,
                                                                        std::error_code& ec) const {
  return store_.conversations_of_campaign(campaign, after_id, limit, ec);
}

std::vector<storage::reply_record> conversation_book::replies(const storage::conversation_record& c,
                                                              std::error_code& ec) const {
  return store_.replies_of(c, ec);
}

std::vector<storage::reply_record> conversation_book::replies_from(std::string_view customer,
                                                                   std::error_code& ec) const {
  return store_.replies_from(customer, 100, ec);
}

}  // namespace engine
