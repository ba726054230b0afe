#include <gtest/gtest.h>
#include "smpp/codec.hpp"
TEST(codec_smoke, enquire_link_round_trips) {
  smpp::pdu p = smpp::make_pdu(7, smpp::enquire_link{});
  std::uint8_t buf[64];
  auto r = smpp::encode(p, buf);
  ASSERT_TRUE(r);
  smpp::pdu q;
  auto d = smpp::decode({buf, r.size}, q);
  ASSERT_TRUE(d) << d.ec.message();
  EXPECT_EQ(p, q);
}
