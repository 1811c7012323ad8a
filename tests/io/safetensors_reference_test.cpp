// Our reader against files written by an independent Python writer, and our writer
// checked by the same independent script (tests/reference/safetensors_ref.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>

#include "cotrain/io/safetensors.h"
#include "support/support.h"

namespace cotrain::io {
namespace {

struct ContractTensor {
  std::string name;
  at::ScalarType type;
  std::vector<int64_t> shape;
  std::function<double(int64_t)> value;  // element i, row-major
};

// The same contract as TENSORS in safetensors_ref.py.
std::vector<ContractTensor> contract() {
  return {
      {"f32", at::kFloat, {2, 3}, [](int64_t i) { return (i - 2.5) * 0.75; }},
      {"f16", at::kHalf, {4}, [](int64_t i) { return i * 0.5 - 1.0; }},
      {"bf16", at::kBFloat16, {2, 2}, [](int64_t i) { return (i - 1) * 1.5; }},
      {"f64", at::kDouble, {3}, [](int64_t i) { return i / 3.0; }},
      {"i64", at::kLong, {3}, [](int64_t i) { return 0.0; }},  // built separately: exceeds double's exact range
      {"i32", at::kInt, {2, 2}, [](int64_t i) { return -i * 100000.0 + 7; }},
      {"i16", at::kShort, {5}, [](int64_t i) { return i * 1000.0 - 2000; }},
      {"i8", at::kChar, {4}, [](int64_t i) { return i * 40.0 - 80; }},
      {"u8", at::kByte, {3}, [](int64_t i) { return 250.0 - i * 100; }},
      {"bool", at::kBool, {5}, [](int64_t i) { return i % 2 == 0 ? 1.0 : 0.0; }},
      {"scalar", at::kFloat, {}, [](int64_t) { return 42.5; }},
      {"empty", at::kFloat, {0, 3}, [](int64_t) { return 0.0; }},
      {"encoder.layer.0.\u00fcml\u00e4ut", at::kFloat, {2}, [](int64_t i) { return -i - 0.25; }},
  };
}

at::Tensor expected_tensor(const ContractTensor& c) {
  int64_t n = 1;
  for (int64_t d : c.shape) n *= d;
  if (c.type == at::kLong) {
    at::Tensor t = at::empty({n}, at::kLong);
    for (int64_t i = 0; i < n; ++i) t.data_ptr<int64_t>()[i] = (i - 1) * 1000000000000LL - 5;
    return t.reshape(c.shape);
  }
  at::Tensor t = at::empty({n}, at::kDouble);
  for (int64_t i = 0; i < n; ++i) t.data_ptr<double>()[i] = c.value(i);
  return t.to(c.type).reshape(c.shape).contiguous();
}

TEST(SafetensorsReference, ReadsFileWrittenByIndependentWriter) {
  const std::string path = testing::scratch_dir("st-ref-read") + "/ref.safetensors";
  testing::run_reference("safetensors_ref.py", {"write", path});
  SafetensorsFile file = load_safetensors(path);
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"author", "h\u00e9llo \u2713"}, {"n", "3"}}));
  ASSERT_EQ(file.tensors.size(), contract().size());
  for (const auto& c : contract()) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(file.tensors.count(c.name));
    const at::Tensor& got = file.tensors.at(c.name);
    EXPECT_EQ(got.scalar_type(), c.type);
    EXPECT_EQ(got.sizes().vec(), c.shape);
    EXPECT_TRUE(at::equal(got, expected_tensor(c))) << got << "\nwant\n" << expected_tensor(c);
  }
}

TEST(SafetensorsReference, IndependentCheckerAcceptsOurFile) {
  TensorMap tensors;
  for (const auto& c : contract()) tensors[c.name] = expected_tensor(c);
  // A non-contiguous view must be written in row-major order of its logical shape.
  tensors["f32"] = expected_tensor(contract()[0]).t().contiguous().t();
  ASSERT_FALSE(tensors["f32"].is_contiguous());
  const std::string path = testing::scratch_dir("st-ref-check") + "/ours.safetensors";
  save_safetensors(path, tensors, {{"author", "h\u00e9llo \u2713"}, {"n", "3"}});
  std::string out = testing::run_reference("safetensors_ref.py", {"check", path});
  EXPECT_NE(out.find("ok 13 tensors"), std::string::npos) << out;
}

}  // namespace
}  // namespace cotrain::io
