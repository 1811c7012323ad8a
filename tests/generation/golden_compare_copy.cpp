// The golden-table comparison lives with the model tests (tests/models/); this area
// is a separate executable, so it compiles its own copy of the same source.
#include "models/golden_compare.cpp"
