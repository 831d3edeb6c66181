// Everything public in finfuse. Prefer the narrower headers in translation units that need only a part.
#pragma once

#include "finfuse/version.h"

#include "finfuse/core/check.h"
#include "finfuse/core/config.h"
#include "finfuse/core/device.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/intra_op_threads.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/core/registry.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"

#include "finfuse/nn/activation.h"
#include "finfuse/nn/attention.h"
#include "finfuse/nn/graph_layers.h"
#include "finfuse/nn/loss.h"
#include "finfuse/nn/mlp.h"

#include "finfuse/encoders/cnn_encoder.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/encoders/tcn_encoder.h"
#include "finfuse/encoders/transformer_encoder.h"

#include "finfuse/fusion/attention_fusion.h"
#include "finfuse/fusion/bilinear_fusion.h"
#include "finfuse/fusion/concat_fusion.h"
#include "finfuse/fusion/cross_attention_fusion.h"
#include "finfuse/fusion/fusion.h"
#include "finfuse/fusion/gated_fusion.h"
#include "finfuse/fusion/graph_fusion.h"

#include "finfuse/models/ablation.h"
#include "finfuse/models/head.h"
#include "finfuse/models/multimodal_model.h"

#include "finfuse/evaluation/backtest.h"
#include "finfuse/evaluation/efficiency.h"
#include "finfuse/evaluation/metric.h"
#include "finfuse/evaluation/predictions.h"

#include "finfuse/training/callback.h"
#include "finfuse/training/distributed.h"
#include "finfuse/training/experiment.h"
#include "finfuse/training/optimizer.h"
#include "finfuse/training/run_config.h"
#include "finfuse/training/scheduler.h"
#include "finfuse/training/trainer.h"

#include "finfuse/io/torch_save.h"
