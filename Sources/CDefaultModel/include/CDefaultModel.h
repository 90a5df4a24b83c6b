#ifndef VIDCLASS_CDEFAULTMODEL_H
#define VIDCLASS_CDEFAULTMODEL_H

#include <stddef.h>

/// The bytes of the default model file (`model/vidclass-default.safetensors`), linked into
/// whatever binary links this target: no resource bundle, so a copied executable keeps its model.
const unsigned char *vidclass_default_model_bytes(void);

/// The number of bytes `vidclass_default_model_bytes()` points to.
size_t vidclass_default_model_size(void);

#endif
