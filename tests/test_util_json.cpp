// Tests for util/json: parse/dump round trips, escapes, and malformed input errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/error.h"
#include "util/json.h"

using r1::Json;

TEST(Json, ParsesAndDumpsRoundTrip) {
  std::string text = R"({"a": 1, "b": [true, false, null], "c": "x\ny", "d": -2.5, "e": {}})";
  Json j = Json::parse(text);
  EXPECT_EQ(j.at("a").as_int(), 1);
  EXPECT_TRUE(j.at("b")[0].as_bool());
  EXPECT_TRUE(j.at("b")[2].is_null());
  EXPECT_EQ(j.at("c").as_string(), "x\ny");
  EXPECT_DOUBLE_EQ(j.at("d").as_number(), -2.5);
  EXPECT_EQ(Json::parse(j.dump()).dump(), j.dump());
  EXPECT_EQ(j.dump(), text);
}

TEST(Json, UnicodeEscapesAndSurrogates) {
  Json j = Json::parse(R"(["\u00e9", "\ud83d\ude00", "\u0000"])");
  EXPECT_EQ(j[0].as_string(), "\xc3\xa9");
  EXPECT_EQ(j[1].as_string(), "\xf0\x9f\x98\x80");
  EXPECT_EQ(j[2].as_string(), std::string(1, '\0'));
  EXPECT_EQ(Json::parse(j.dump()).dump(), j.dump());
}

TEST(Json, DumpAlwaysWritesValidUtf8) {
  // Valid sequences of every length pass through; invalid bytes become U+FFFD each.
  const std::string fffd = "\xef\xbf\xbd";
  struct Case {
    std::string in, want;
  };
  for (const Case& c : std::vector<Case>{
           {"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
           {"x\xady", "x" + fffd + "y"},                     // stray continuation byte
           {"\xe2\x82", fffd + fffd},                         // truncated 3-byte sequence
           {"\xc0\xaf", fffd + fffd},                         // overlong '/'
           {"\xed\xa0\x80", fffd + fffd + fffd},             // UTF-16 surrogate D800
           {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd}, // above U+10FFFF
           {"\xf0\x9f\x98", fffd + fffd + fffd},             // truncated emoji at the end
       }) {
    Json j = Json(c.in);
    EXPECT_EQ(j.dump(), "\"" + c.want + "\"") << j.dump();
    EXPECT_EQ(Json::parse(j.dump()).as_string(), c.want);
  }
}

TEST(Json, NumbersRoundTripExactly) {
  for (double x : {0.1, 1e-30, 123456789.125, -3.0e300, 9007199254740991.0}) {
    Json j(x);
    EXPECT_EQ(Json::parse(j.dump()).as_number(), x) << j.dump();
  }
  EXPECT_EQ(Json(42).dump(), "42");
}

TEST(Json, MalformedInputNamesSourceAndLine) {
  for (const char* bad : {"{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "01", "[1] x", "\"\\q\"", "\"\\ud800\""}) {
    try {
      Json::parse(bad, "f.json");
      FAIL() << "accepted: " << bad;
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find("f.json: invalid JSON at line 1"), std::string::npos) << e.what();
    }
  }
  try {
    Json::parse("{\n  \"a\": [1,\n  2,,]}", "g.json");
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
}

TEST(Json, DeepNestingIsRejectedNotACrash) {
  std::string s(100000, '[');
  EXPECT_THROW(Json::parse(s), r1::Error);
}

TEST(Json, TypedAccessErrorsNameTheField) {
  Json j = Json::parse(R"({"n": "x"})");
  EXPECT_THROW(j.at("missing"), r1::Error);
  try {
    j.get_int("n", 0);
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("field 'n'"), std::string::npos);
  }
  EXPECT_EQ(j.get_int("absent", 7), 7);
}

TEST(Json, CopiesAreIndependent) {
  Json a = Json::parse("[1]");
  Json b = a;
  b.push_back(2);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 2u);
}
