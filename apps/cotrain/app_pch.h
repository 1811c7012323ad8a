#pragma once
#include <CLI/CLI.hpp>
#include <ATen/ATen.h>
#include <torch/types.h>
#include <string>
#include <vector>
