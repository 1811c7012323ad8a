// The llm.c-style golden table of tests/models, compiled into test_tasks as well
// (test areas are separate executables; this keeps one implementation).
#include "models/golden_compare.cpp"
