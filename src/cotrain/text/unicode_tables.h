// Layout of the generated Unicode tables (unicode_tables.cpp, written by
// scripts/gen_unicode_tables.py). Internal to cotrain/text: use unicode.h instead.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cotrain::text::tables {

// Code points from `first` up to the next run's `first` share the property bits.
struct ClassRun {
  char32_t first;
  uint16_t bits;
};
struct CombiningRange {
  char32_t first, last;
  uint8_t ccc;
};
// A code point mapped to data[offset .. offset + length).
struct MappingEntry {
  char32_t code_point;
  uint16_t offset;
  uint8_t length;
};

extern const char* const kUnicodeVersion;
extern const ClassRun kClassRuns[];
extern const size_t kClassRunCount;
extern const CombiningRange kCombiningRanges[];
extern const size_t kCombiningRangeCount;
extern const MappingEntry kNfdEntries[];
extern const size_t kNfdEntryCount;
extern const char32_t kNfdData[];
extern const MappingEntry kLowerEntries[];
extern const size_t kLowerEntryCount;
extern const char32_t kLowerData[];

}  // namespace cotrain::text::tables
