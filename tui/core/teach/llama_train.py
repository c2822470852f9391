"""llama.cpp's training API through ctypes: what llama-cpp-python leaves out or declares wrong.

Used only in the teaching child process (`tui.core.teach.child`): the API is young, and an abort in
it must end that process, not the app. Facts this rests on (measured with llama-cpp-python 0.3.36):

- the C ``llama_opt_params`` has six fields, the binding's five (``optimizer_type`` is missing), so
  the struct is declared here and the argument types of ``llama_opt_init`` set on the library;
- a ctypes callback cannot return a struct, so the optimizer parameters come from ggml's own
  ``ggml_opt_get_constant_optimizer_params``, pointed at a struct this module owns;
- weights must be writable (``load_mode`` none) and the KV cache F32 (no F16 backward pass).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from pathlib import Path

import llama_cpp

GGML_TYPE_I32 = 26
GGML_TYPE_F32 = 0
ADAMW = 0
LOAD_MODE_NONE = 0
FLASH_ATTN_DISABLED = 0


class AdamW(ctypes.Structure):
    _fields_ = [
        ("alpha", ctypes.c_float),
        ("beta1", ctypes.c_float),
        ("beta2", ctypes.c_float),
        ("eps", ctypes.c_float),
        ("wd", ctypes.c_float),
    ]


class Sgd(ctypes.Structure):
    _fields_ = [("alpha", ctypes.c_float), ("wd", ctypes.c_float)]


class OptimizerParams(ctypes.Structure):
    """``struct ggml_opt_optimizer_params``."""

    _fields_ = [("adamw", AdamW), ("sgd", Sgd)]


class OptParams(ctypes.Structure):
    """``struct llama_opt_params`` as the C header has it (six fields)."""

    _fields_ = [
        ("n_ctx_train", ctypes.c_uint32),
        ("param_filter", ctypes.c_void_p),
        ("param_filter_ud", ctypes.c_void_p),
        ("get_opt_pars", ctypes.c_void_p),
        ("get_opt_pars_ud", ctypes.c_void_p),
        ("optimizer_type", ctypes.c_int),
    ]


EpochCallback = ctypes.CFUNCTYPE(
    None,
    ctypes.c_bool,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_int64,
    ctypes.c_int64,
    ctypes.c_int64,
)
"""``ggml_opt_epoch_callback``: (train, opt_ctx, dataset, result, ibatch, ibatch_max, t_start_us)."""

ParamFilter = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p)
"""``llama_opt_param_filter``: (tensor, userdata) -> whether that tensor is trained."""


class Libraries:
    """libllama and libggml-base as llama-cpp-python ships them, with the training symbols typed."""

    def __init__(self) -> None:
        lib_dir = Path(llama_cpp.__file__).parent / "lib"
        self.llama = llama_cpp.llama_cpp._lib  # the library the binding already loaded
        self.ggml = ctypes.CDLL(str(next(lib_dir.glob("libggml-base.*"))))
        g, ll = self.ggml, self.llama
        g.ggml_opt_dataset_init.restype = ctypes.c_void_p
        g.ggml_opt_dataset_init.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_int64,
            ctypes.c_int64,
        ]
        g.ggml_opt_dataset_data.restype = ctypes.c_void_p
        g.ggml_opt_dataset_data.argtypes = [ctypes.c_void_p]
        g.ggml_opt_dataset_labels.restype = ctypes.c_void_p
        g.ggml_opt_dataset_labels.argtypes = [ctypes.c_void_p]
        g.ggml_opt_dataset_free.argtypes = [ctypes.c_void_p]
        g.ggml_opt_dataset_ndata.restype = ctypes.c_int64
        g.ggml_opt_dataset_ndata.argtypes = [ctypes.c_void_p]
        g.ggml_get_data.restype = ctypes.c_void_p
        g.ggml_get_data.argtypes = [ctypes.c_void_p]
        g.ggml_get_name.restype = ctypes.c_char_p
        g.ggml_get_name.argtypes = [ctypes.c_void_p]
        g.ggml_opt_result_init.restype = ctypes.c_void_p
        g.ggml_opt_result_free.argtypes = [ctypes.c_void_p]
        g.ggml_opt_result_reset.argtypes = [ctypes.c_void_p]
        g.ggml_opt_result_loss.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_double),
            ctypes.POINTER(ctypes.c_double),
        ]
        g.ggml_opt_get_default_optimizer_params.restype = OptimizerParams
        g.ggml_opt_get_default_optimizer_params.argtypes = [ctypes.c_void_p]
        ll.llama_opt_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, OptParams]
        ll.llama_opt_init.restype = None
        ll.llama_opt_epoch.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int64,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        ll.llama_opt_epoch.restype = None

    def address(self, library: ctypes.CDLL, name: str) -> int:
        return ctypes.cast(getattr(library, name), ctypes.c_void_p).value or 0

    def loss(self, result: int) -> float:
        value, spread = ctypes.c_double(), ctypes.c_double()
        self.ggml.ggml_opt_result_loss(result, ctypes.byref(value), ctypes.byref(spread))
        return float(value.value)


class Dataset:
    """Token windows of ``n_ctx``: the label of each position is the token after it."""

    def __init__(self, libs: Libraries, windows: Sequence[Sequence[int]], n_ctx: int) -> None:
        self.libs = libs
        g = libs.ggml
        self.handle = g.ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, n_ctx, n_ctx, len(windows), 1)
        data = ctypes.cast(
            g.ggml_get_data(g.ggml_opt_dataset_data(self.handle)), ctypes.POINTER(ctypes.c_int32)
        )
        labels = ctypes.cast(
            g.ggml_get_data(g.ggml_opt_dataset_labels(self.handle)), ctypes.POINTER(ctypes.c_int32)
        )
        for index, window in enumerate(windows):
            base = index * n_ctx
            for position in range(n_ctx):
                data[base + position] = window[position]
                labels[base + position] = window[position + 1]

    def free(self) -> None:
        self.libs.ggml.ggml_opt_dataset_free(self.handle)


class Trainer:
    """A model loaded with writable weights and a context made for training."""

    def __init__(self, libs: Libraries, model_path: Path, n_ctx: int, threads: int) -> None:
        self.libs = libs
        params = llama_cpp.llama_model_default_params()
        params.load_mode = LOAD_MODE_NONE  # mmapped weights are read-only: training would segfault
        self.model = llama_cpp.llama_model_load_from_file(str(model_path).encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {model_path}")
        context = llama_cpp.llama_context_default_params()
        context.n_ctx = context.n_batch = context.n_ubatch = n_ctx  # else K and V get no gradients
        context.n_threads = context.n_threads_batch = threads
        context.type_k = context.type_v = GGML_TYPE_F32
        context.flash_attn_type = FLASH_ATTN_DISABLED
        self.ctx = llama_cpp.llama_init_from_model(self.model, context)
        if not self.ctx:
            raise RuntimeError("llama.cpp could not make a training context")
        if llama_cpp.llama_n_ctx(self.ctx) != n_ctx:  # llama.cpp rounds contexts up to 256s
            raise RuntimeError(f"llama.cpp made a context of {llama_cpp.llama_n_ctx(self.ctx)}, not {n_ctx}")
        self.optimizer = libs.ggml.ggml_opt_get_default_optimizer_params(None)
        """Changed in place between epochs; llama.cpp reads it before every step."""

    def start(self, learning_rate: float, trained: Callable[[str], bool] | None = None) -> None:
        """Set up the optimizer; ``trained`` says by name which tensors learn (None: all of them)."""
        self.optimizer.adamw.alpha = self.optimizer.sgd.alpha = learning_rate
        libs = self.libs
        if trained is None:
            keep = libs.address(libs.llama, "llama_opt_param_filter_all")
        else:
            name_of = libs.ggml.ggml_get_name

            def choose(tensor: int, _data: int) -> bool:  # asked once a tensor, at init
                return trained((name_of(tensor) or b"").decode(errors="replace"))

            self._filter = ParamFilter(choose)  # kept alive for as long as the context
            keep = ctypes.cast(self._filter, ctypes.c_void_p).value or 0
        params = OptParams(
            n_ctx_train=0,
            param_filter=keep,
            param_filter_ud=None,
            get_opt_pars=libs.address(libs.ggml, "ggml_opt_get_constant_optimizer_params"),
            get_opt_pars_ud=ctypes.cast(ctypes.pointer(self.optimizer), ctypes.c_void_p).value,
            optimizer_type=ADAMW,
        )
        libs.llama.llama_opt_init(self.ctx, self.model, params)

    def epoch(
        self, dataset: Dataset, split: int, on_step: Callable[[bool, int, int, float], None]
    ) -> tuple[float, float | None]:
        """One pass: train on the first ``split`` windows, evaluate on the rest; (train, eval) loss."""
        libs = self.libs
        train, evaluate = libs.ggml.ggml_opt_result_init(), libs.ggml.ggml_opt_result_init()

        def step(is_train: bool, _opt: int, _data: int, result: int, done: int, total: int, _t: int) -> None:
            on_step(bool(is_train), int(done), int(total), libs.loss(result))

        callback = EpochCallback(step)  # kept alive for the length of the call
        try:
            has_eval = split < libs.ggml.ggml_opt_dataset_ndata(dataset.handle)
            libs.llama.llama_opt_epoch(
                self.ctx,
                dataset.handle,
                train,
                evaluate,
                split,
                ctypes.cast(callback, ctypes.c_void_p),
                ctypes.cast(callback, ctypes.c_void_p) if has_eval else None,
            )
            return libs.loss(train), (libs.loss(evaluate) if has_eval else None)
        finally:
            libs.ggml.ggml_opt_result_free(train)
            libs.ggml.ggml_opt_result_free(evaluate)

    def save(self, path: Path) -> None:
        llama_cpp.llama_model_save_to_file(self.model, str(path).encode())

    def close(self) -> None:
        llama_cpp.llama_free(self.ctx)
        llama_cpp.llama_model_free(self.model)


def quantize(
    source: Path, target: Path, ftype: int, threads: int, metadata: dict[str, str | int | float] | None = None
) -> None:
    """``llama_model_quantize``: every key of ``source`` is kept, ``metadata`` added or replaced
    (strings at most 127 bytes: llama.cpp's override field)."""
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    params.allow_requantize = True
    overrides = None
    if metadata:
        overrides = (llama_cpp.llama_model_kv_override * (len(metadata) + 1))()
        for slot, (key, value) in zip(overrides, metadata.items(), strict=False):
            slot.key = key.encode()
            if isinstance(value, str):
                slot.tag = llama_cpp.LLAMA_KV_OVERRIDE_TYPE_STR
                slot.value.val_str = value.encode()[:127]
            elif isinstance(value, float):
                slot.tag = llama_cpp.LLAMA_KV_OVERRIDE_TYPE_FLOAT
                slot.value.val_f64 = value
            else:
                slot.tag = llama_cpp.LLAMA_KV_OVERRIDE_TYPE_INT
                slot.value.val_i64 = value
        params.kv_overrides = ctypes.cast(overrides, ctypes.POINTER(llama_cpp.llama_model_kv_override))
    failed = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    if failed:
        raise RuntimeError(f"llama.cpp could not write {target.name} from {source.name}")
