#include "engine/prepare.hpp"

#include <algorithm>

namespace engine {

prepare_source::prepare_source(prepare_context initial) : current_(std::move(initial)) {}

prepare_context prepare_source::get() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void prepare_source::replace(prepare_context next) {
  std::lock_guard lock(mutex_);
  current_ = std::move(next);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

prepare_problem prepare_message(const prepare_context& ctx, const message_request& req, std::uint64_t id,
                                std::int64_t now_us, prepared_message& out) {
  auto number = normalise_number(req.to, ctx.numbering);
  if (!number.ok()) return {"invalid_number", "bad number \"" + std::string(req.to) + "\": " + number.problem};
  const bool numeric_sender = !req.from.empty() && std::all_of(req.from.begin() + (req.from[0] == '+'), req.from.end(),
                                                               [](char c) { return c >= '0' && c <= '9'; });
  if (req.from.empty() || (!numeric_sender && req.from.size() > 11) || req.from.size() > 20)
    return {"invalid_sender",
            "sender \"" + std::string(req.from) + "\": expected a number of up to 20 digits or a name of 1-11 characters"};
  if (req.text.empty()) return {"empty_text", "the text is empty"};
  auto op = ctx.routes->route(number.e164);
  if (!op) return {"no_route", "no operator serves " + number.e164};
  smpp::encode_options eo = *op < ctx.encoding.size() ? ctx.encoding[*op] : smpp::encode_options{};
  eo.reference = static_cast<std::uint16_t>(id);
  auto m = std::make_unique<outbound_message>();
  if (auto ec = smpp::encode_text(req.text, eo, m->text)) {
    if (ec == smpp::text_errc::too_many_parts)
      return {"text_too_long", "the text needs " + std::to_string(m->text.error_position) + " parts; at most " +
                                   std::to_string(smpp::max_parts) + " can be sent"};
    if (ec == smpp::text_errc::invalid_utf8)
      return {"invalid_text", "the text is not valid UTF-8 (byte " + std::to_string(m->text.error_position) + ")"};
    return {"invalid_text", "the text cannot be encoded: " + ec.message()};
  }
  auto& r = out.record;
  r = storage::message_record{};
  r.id = id;
  r.origin = req.origin;
  r.campaign = req.campaign;
  r.row = req.row;
  r.idempotency_key = req.idempotency_key;
  r.recipient = number.e164;
  r.sender = std::string(req.from);
  r.text = req.text;
  r.queued_us = now_us;
  r.valid_until_us = req.validity.count() ? now_us + req.validity.count() * 1'000'000 : 0;
  r.deliver_by_us =
      req.deliver_within.count() ? now_us + std::chrono::microseconds(req.deliver_within).count() : 0;
  r.parts.resize(m->text.parts.size());
  m->id = id;
  m->priority = req.priority;
  m->op = *op;
  m->to = number.e164;
  m->from = std::string(req.from);
  m->receipts = req.receipts;
  m->validity = req.validity;
  m->campaign = req.campaign;
  m->queued_us = now_us;
  out.message = std::move(m);
  return {};
}

void set_window(prepared_message& m, const send_hours& h) {
  m.message->window = h;
  m.record.window_zone = h.zone ? h.zone->name() : std::string();
  m.record.window_start = static_cast<std::uint16_t>(h.start);
  m.record.window_end = static_cast<std::uint16_t>(h.end);
}

std::optional<send_hours> window_of(const storage::message_record& r) {
  if (r.window_zone.empty()) return std::nullopt;
  const time_zone* z = cached_zone(r.window_zone);
  if (!z) return std::nullopt;
  return send_hours{z, static_cast<std::int16_t>(r.window_start), static_cast<std::int16_t>(r.window_end)};
}

}  // namespace engine
