// Everything public in finfuse. Prefer the narrower headers in translation units that need only a part.
#pragma once

#include "finfuse/version.h"

#include "finfuse/core/check.h"
#include "finfuse/core/config.h"
#include "finfuse/core/device.h"
#include "finfuse/core/digest.h"
#include "finfuse/core/error.h"
#include "finfuse/core/file.h"
#include "finfuse/core/logging.h"
#include "finfuse/core/random.h"
#include "finfuse/core/registry.h"
#include "finfuse/core/runtime.h"
#include "finfuse/core/shape.h"
#include "finfuse/core/suggest.h"

#include "finfuse/nn/activation.h"
#include "finfuse/nn/mlp.h"

#include "finfuse/encoders/cnn_encoder.h"
#include "finfuse/encoders/encoder.h"
#include "finfuse/encoders/mlp_encoder.h"
#include "finfuse/encoders/pretrained.h"
#include "finfuse/encoders/rnn_encoder.h"
#include "finfuse/encoders/tcn_encoder.h"
#include "finfuse/encoders/transformer_encoder.h"
