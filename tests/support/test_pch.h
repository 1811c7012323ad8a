#pragma once
#include <gtest/gtest.h>
#include <ATen/ATen.h>
#include <torch/types.h>
#include <string>
#include <vector>
