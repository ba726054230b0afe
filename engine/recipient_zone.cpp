#include "engine/recipient_zone.hpp"

#include <algorithm>
#include <memory>
#include <mutex>

namespace engine {

namespace {

// E.164 country codes (ITU-T E.164 assignments) whose country or
// territory keeps one official clock, with its zone as tzdata names it
// (zone.tab). Where tzdata lists several zones that keep the same clock
// today (Argentina, Malaysia, Germany, Cyprus), one stands for all.
//
// Left out, so that their numbers fall back: +1 (the United States and
// Canada; the single-zone members of the North American plan are listed
// by area code), +7 (Russia, Kazakhstan), +34 (the Canary Islands keep
// their own time), +351 (the Azores), +52 Mexico, +55 Brazil, +56 Chile
// (Easter Island, Magallanes), +61 Australia, +62 Indonesia, +64 New
// Zealand (the Chatham Islands), +243 DR Congo, +262 (Reunion and
// Mayotte), +299 Greenland, +593 Ecuador (Galapagos), +675 Papua New
// Guinea (Bougainville), +686 Kiribati, +689 French Polynesia, +691
// Micronesia, +970 Palestine (two zones in tzdata), +976 Mongolia.
constexpr builtin_zone table[] = {
    // North American plan: members with one zone, by area code.
    {"+1242", "America/Nassau"},
    {"+1246", "America/Barbados"},
    {"+1264", "America/Anguilla"},
    {"+1268", "America/Antigua"},
    {"+1284", "America/Tortola"},
    {"+1340", "America/St_Thomas"},
    {"+1345", "America/Cayman"},
    {"+1441", "Atlantic/Bermuda"},
    {"+1473", "America/Grenada"},
    {"+1649", "America/Grand_Turk"},
    {"+1658", "America/Jamaica"},
    {"+1664", "America/Montserrat"},
    {"+1670", "Pacific/Saipan"},
    {"+1671", "Pacific/Guam"},
    {"+1684", "Pacific/Pago_Pago"},
    {"+1721", "America/Lower_Princes"},
    {"+1758", "America/St_Lucia"},
    {"+1767", "America/Dominica"},
    {"+1784", "America/St_Vincent"},
    {"+1787", "America/Puerto_Rico"},
    {"+1809", "America/Santo_Domingo"},
    {"+1829", "America/Santo_Domingo"},
    {"+1849", "America/Santo_Domingo"},
    {"+1868", "America/Port_of_Spain"},
    {"+1869", "America/St_Kitts"},
    {"+1876", "America/Jamaica"},
    {"+1939", "America/Puerto_Rico"},
    // Africa.
    {"+20", "Africa/Cairo"},
    {"+211", "Africa/Juba"},
    {"+212", "Africa/Casablanca"},
    {"+213", "Africa/Algiers"},
    {"+216", "Africa/Tunis"},
    {"+218", "Africa/Tripoli"},
    {"+220", "Africa/Banjul"},
    {"+221", "Africa/Dakar"},
    {"+222", "Africa/Nouakchott"},
    {"+223", "Africa/Bamako"},
    {"+224", "Africa/Conakry"},
    {"+225", "Africa/Abidjan"},
    {"+226", "Africa/Ouagadougou"},
    {"+227", "Africa/Niamey"},
    {"+228", "Africa/Lome"},
    {"+229", "Africa/Porto-Novo"},
    {"+230", "Indian/Mauritius"},
    {"+231", "Africa/Monrovia"},
    {"+232", "Africa/Freetown"},
    {"+233", "Africa/Accra"},
    {"+234", "Africa/Lagos"},
    {"+235", "Africa/Ndjamena"},
    {"+236", "Africa/Bangui"},
    {"+237", "Africa/Douala"},
    {"+238", "Atlantic/Cape_Verde"},
    {"+239", "Africa/Sao_Tome"},
    {"+240", "Africa/Malabo"},
    {"+241", "Africa/Libreville"},
    {"+242", "Africa/Brazzaville"},
    {"+244", "Africa/Luanda"},
    {"+245", "Africa/Bissau"},
    {"+246", "Indian/Chagos"},
    {"+247", "Atlantic/St_Helena"},  // Ascension keeps GMT like St Helena
    {"+248", "Indian/Mahe"},
    {"+249", "Africa/Khartoum"},
    {"+250", "Africa/Kigali"},
    {"+251", "Africa/Addis_Ababa"},
    {"+252", "Africa/Mogadishu"},
    {"+253", "Africa/Djibouti"},
    {"+254", "Africa/Nairobi"},
    {"+255", "Africa/Dar_es_Salaam"},
    {"+256", "Africa/Kampala"},
    {"+257", "Africa/Bujumbura"},
    {"+258", "Africa/Maputo"},
    {"+260", "Africa/Lusaka"},
    {"+261", "Indian/Antananarivo"},
    {"+263", "Africa/Harare"},
    {"+264", "Africa/Windhoek"},
    {"+265", "Africa/Blantyre"},
    {"+266", "Africa/Maseru"},
    {"+267", "Africa/Gaborone"},
    {"+268", "Africa/Mbabane"},
    {"+269", "Indian/Comoro"},
    {"+27", "Africa/Johannesburg"},
    {"+290", "Atlantic/St_Helena"},
    {"+291", "Africa/Asmara"},
    {"+297", "America/Aruba"},
    {"+298", "Atlantic/Faroe"},
    // Europe.
    {"+30", "Europe/Athens"},
    {"+31", "Europe/Amsterdam"},
    {"+32", "Europe/Brussels"},
    {"+33", "Europe/Paris"},
    {"+350", "Europe/Gibraltar"},
    {"+352", "Europe/Luxembourg"},
    {"+353", "Europe/Dublin"},
    {"+354", "Atlantic/Reykjavik"},
    {"+355", "Europe/Tirane"},
    {"+356", "Europe/Malta"},
    {"+357", "Asia/Nicosia"},
    {"+358", "Europe/Helsinki"},
    {"+359", "Europe/Sofia"},
    {"+36", "Europe/Budapest"},
    {"+370", "Europe/Vilnius"},
    {"+371", "Europe/Riga"},
    {"+372", "Europe/Tallinn"},
    {"+373", "Europe/Chisinau"},
    {"+374", "Asia/Yerevan"},
    {"+375", "Europe/Minsk"},
    {"+376", "Europe/Andorra"},
    {"+377", "Europe/Monaco"},
    {"+378", "Europe/San_Marino"},
    {"+380", "Europe/Kyiv"},
    {"+381", "Europe/Belgrade"},
    {"+382", "Europe/Podgorica"},
    {"+383", "Europe/Belgrade"},  // Kosovo: tzdata has no zone of its own; the same clock
    {"+385", "Europe/Zagreb"},
    {"+386", "Europe/Ljubljana"},
    {"+387", "Europe/Sarajevo"},
    {"+389", "Europe/Skopje"},
    {"+39", "Europe/Rome"},
    {"+40", "Europe/Bucharest"},
    {"+41", "Europe/Zurich"},
    {"+420", "Europe/Prague"},
    {"+421", "Europe/Bratislava"},
    {"+423", "Europe/Vaduz"},
    {"+43", "Europe/Vienna"},
    {"+44", "Europe/London"},
    {"+45", "Europe/Copenhagen"},
    {"+46", "Europe/Stockholm"},
    {"+47", "Europe/Oslo"},
    {"+48", "Europe/Warsaw"},
    {"+49", "Europe/Berlin"},
    // The Americas south of the North American plan.
    {"+500", "Atlantic/Stanley"},
    {"+501", "America/Belize"},
    {"+502", "America/Guatemala"},
    {"+503", "America/El_Salvador"},
    {"+504", "America/Tegucigalpa"},
    {"+505", "America/Managua"},
    {"+506", "America/Costa_Rica"},
    {"+507", "America/Panama"},
    {"+508", "America/Miquelon"},
    {"+509", "America/Port-au-Prince"},
    {"+51", "America/Lima"},
    {"+53", "America/Havana"},
    {"+54", "America/Argentina/Buenos_Aires"},
    {"+57", "America/Bogota"},
    {"+58", "America/Caracas"},
    {"+590", "America/Guadeloupe"},
    {"+591", "America/La_Paz"},
    {"+592", "America/Guyana"},
    {"+594", "America/Cayenne"},
    {"+595", "America/Asuncion"},
    {"+596", "America/Martinique"},
    {"+597", "America/Paramaribo"},
    {"+598", "America/Montevideo"},
    {"+599", "America/Curacao"},  // and the Caribbean Netherlands: the same clock
    // Asia and the Pacific.
    {"+60", "Asia/Kuala_Lumpur"},
    {"+63", "Asia/Manila"},
    {"+65", "Asia/Singapore"},
    {"+66", "Asia/Bangkok"},
    {"+670", "Asia/Dili"},
    {"+6723", "Pacific/Norfolk"},
    {"+673", "Asia/Brunei"},
    {"+674", "Pacific/Nauru"},
    {"+676", "Pacific/Tongatapu"},
    {"+677", "Pacific/Guadalcanal"},
    {"+678", "Pacific/Efate"},
    {"+679", "Pacific/Fiji"},
    {"+680", "Pacific/Palau"},
    {"+681", "Pacific/Wallis"},
    {"+682", "Pacific/Rarotonga"},
    {"+683", "Pacific/Niue"},
    {"+685", "Pacific/Apia"},
    {"+687", "Pacific/Noumea"},
    {"+688", "Pacific/Funafuti"},
    {"+690", "Pacific/Fakaofo"},
    {"+692", "Pacific/Majuro"},
    {"+81", "Asia/Tokyo"},
    {"+82", "Asia/Seoul"},
    {"+84", "Asia/Ho_Chi_Minh"},
    {"+850", "Asia/Pyongyang"},
    {"+852", "Asia/Hong_Kong"},
    {"+853", "Asia/Macau"},
    {"+855", "Asia/Phnom_Penh"},
    {"+856", "Asia/Vientiane"},
    {"+86", "Asia/Shanghai"},
    {"+880", "Asia/Dhaka"},
    {"+886", "Asia/Taipei"},
    {"+90", "Europe/Istanbul"},
    {"+91", "Asia/Kolkata"},
    {"+92", "Asia/Karachi"},
    {"+93", "Asia/Kabul"},
    {"+94", "Asia/Colombo"},
    {"+95", "Asia/Yangon"},
    {"+960", "Indian/Maldives"},
    {"+961", "Asia/Beirut"},
    {"+962", "Asia/Amman"},
    {"+963", "Asia/Damascus"},
    {"+964", "Asia/Baghdad"},
    {"+965", "Asia/Kuwait"},
    {"+966", "Asia/Riyadh"},
    {"+967", "Asia/Aden"},
    {"+968", "Asia/Muscat"},
    {"+971", "Asia/Dubai"},
    {"+972", "Asia/Jerusalem"},
    {"+973", "Asia/Bahrain"},
    {"+974", "Asia/Qatar"},
    {"+975", "Asia/Thimphu"},
    {"+977", "Asia/Kathmandu"},
    {"+992", "Asia/Dushanbe"},
    {"+993", "Asia/Ashgabat"},
    {"+994", "Asia/Baku"},
    {"+995", "Asia/Tbilisi"},
    {"+996", "Asia/Bishkek"},
    {"+998", "Asia/Tashkent"},
};

}  // namespace

const time_zone* cached_zone(std::string_view name) {
  // Zones are few (a few hundred at most) and kept for the process's life:
  // messages on hold point at them across reloads.
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<const time_zone>, std::less<>> zones;
  std::lock_guard lock(mutex);
  if (auto it = zones.find(name); it != zones.end()) return it->second.get();
  auto z = time_zone::load(name);
  auto& slot = zones[std::string(name)];
  if (z) slot = std::make_unique<const time_zone>(std::move(*z));
  return slot.get();
}

std::span<const builtin_zone> builtin_zones() { return table; }

zone_table::zone_table(const std::vector<std::pair<std::string, std::string>>& overrides,
                       std::string_view default_zone, std::vector<std::string>* missing) {
  auto add = [&](std::string_view prefix, std::string_view name) {
    if (const time_zone* z = cached_zone(name)) {
      by_prefix_[std::string(prefix)] = z;
      longest_ = std::max(longest_, prefix.size());
    } else if (missing) {
      missing->emplace_back(name);
    }
  };
  for (const auto& e : table) add(e.prefix, e.zone);
  for (const auto& [prefix, name] : overrides) add(prefix, name);
  default_ = cached_zone(default_zone);
  if (!default_ && missing) missing->emplace_back(default_zone);
}

const time_zone* zone_table::find(std::string_view e164) const {
  for (std::size_t n = std::min(longest_, e164.size()); n >= 2; --n)
    if (auto it = by_prefix_.find(e164.substr(0, n)); it != by_prefix_.end()) return it->second;
  return nullptr;
}

std::optional<window_rule> window_rule::make(int start_minute, int end_minute, std::string_view zone,
                                             std::string_view fallback, std::string& error) {
  window_rule w;
  // 24:00 is midnight: 09:00-24:00 runs to the end of the day.
  w.start_ = static_cast<std::int16_t>(start_minute % (24 * 60));
  w.end_ = static_cast<std::int16_t>(end_minute % (24 * 60));
  if (zone != "recipient") {
    w.fixed_ = cached_zone(zone);
    if (!w.fixed_) {
      error = "unknown time zone " + std::string(zone);
      return std::nullopt;
    }
  }
  if (!fallback.empty()) {
    w.fallback_ = cached_zone(fallback);
    if (!w.fallback_) {
      error = "unknown time zone " + std::string(fallback);
      return std::nullopt;
    }
  }
  return w;
}

send_hours window_rule::for_recipient(std::string_view e164, const zone_table& zones) const {
  const time_zone* z = fixed_;
  if (!z) z = zones.find(e164);
  if (!z) z = fallback_ ? fallback_ : zones.default_zone();
  if (!z) z = cached_zone("UTC");
  return send_hours{z, start_, end_};
}

}  // namespace engine
