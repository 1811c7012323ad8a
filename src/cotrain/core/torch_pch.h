// Precompiled header for the layers that use LibTorch. Only the narrow headers the
// code actually needs: <torch/torch.h> would double compile time on 2 cores.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <string>
#include <vector>
#include <map>
#include <memory>
