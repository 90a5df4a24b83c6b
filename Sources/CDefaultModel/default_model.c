// The default model's file, assembled into the object file with `.incbin` (the assembler finds it
// on the target's header search path, `model/`; Package.swift). Changing the model file does not
// trigger a rebuild by itself: touch this file after replacing it.
#include "CDefaultModel.h"

__asm__(
    ".section .rodata.vidclass_default_model,\"a\",@progbits\n"
    ".balign 64\n"
    ".globl vidclass_default_model_start\n.hidden vidclass_default_model_start\n"
    "vidclass_default_model_start:\n"
    ".incbin \"vidclass-default.safetensors\"\n"
    ".globl vidclass_default_model_end\n.hidden vidclass_default_model_end\n"
    "vidclass_default_model_end:\n"
    ".previous\n");

extern const unsigned char vidclass_default_model_start[];
extern const unsigned char vidclass_default_model_end[];

const unsigned char *vidclass_default_model_bytes(void) { return vidclass_default_model_start; }

size_t vidclass_default_model_size(void) {
    return (size_t)(vidclass_default_model_end - vidclass_default_model_start);
}
