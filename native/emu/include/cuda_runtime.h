// The CUDA emulator's cuda_runtime.h: the runtime API and what device code needs (kernel.h).
#pragma once
#include "cuda_runtime_api.h"
#include "../kernel.h"
