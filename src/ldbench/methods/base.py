"""What a fine-tuning method is to the training engine: which parameters train, which tokens exist.

One engine (``ldbench.train``) runs every method; a method only answers the questions below. A
strategy class also carries what the rest of the pipeline needs to know about its method: its
name (the ``{method}`` wildcard and the ``finetune.<name>`` config block), its display title, a
sentence on what it trains, and the JSON schema of its config block, defaults included.

Nothing here imports torch at module level: the Snakefile reads the registry when it parses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch

    from ..models import Components

#: the engine's keys of every ``finetune.<method>`` block; everything else is the method's own
ENGINE_OPTIONS: dict[str, dict] = {
    "lr": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "learning rate (per sample when scale_lr)"},
    "scale_lr": {
        "type": "boolean", "default": False,
        "description": "multiply lr by batch size × gradient accumulation steps × processes, as diffusers' --scale_lr",
    },
    "max_grad_norm": {
        "type": ["number", "null"], "exclusiveMinimum": 0, "default": 1.0,
        "description": "gradient-norm clipping threshold; null: no clipping",
    },
    "prior_loss_weight": {
        "type": "number", "minimum": 0, "default": 0.0,
        "description": "weight of the prior-preservation loss on class images (finetune.prior_preservation); 0: none",
    },
}


@dataclass(frozen=True)
class MethodConfig:
    """A method's ``finetune.<name>`` block: the engine's knobs and the method's own ``options``."""

    lr: float
    scale_lr: bool = False
    max_grad_norm: float | None = 1.0
    prior_loss_weight: float = 0.0
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_block(cls, block: Mapping[str, Any]) -> MethodConfig:
        engine = {key: block[key] for key in ENGINE_OPTIONS if key in block}
        return cls(**engine, options={key: value for key, value in block.items() if key not in ENGINE_OPTIONS})

    def effective_lr(self, batch_size: int, gradient_accumulation_steps: int, processes: int = 1) -> float:
        """The rate the optimiser uses: ``lr``, or with ``scale_lr`` lr × batch × accumulation × processes."""
        return self.lr * batch_size * gradient_accumulation_steps * processes if self.scale_lr else self.lr


class Strategy:
    """Base strategy: nothing trains. Subclasses choose parameters and the prompt phrase."""

    name: ClassVar[str] = "base"
    #: shown in tables and figures
    title: ClassVar[str] = "base"
    #: one sentence for the README and model metadata
    trains: ClassVar[str] = "nothing"
    #: True for the methods a user lists in ``finetune.methods`` (not pre-training or editing models)
    finetuning: ClassVar[bool] = False
    #: row order in Table 1 (the paper's: Custom Diffusion, DreamBooth, Textual Inversion, Basic FT)
    table_rank: ClassVar[int] = 100
    #: JSON schema of the method's own keys in ``finetune.<name>`` (with their defaults), and the
    #: engine keys' defaults where this method's recipe differs from ``ENGINE_OPTIONS``
    options_schema: ClassVar[dict[str, dict]] = {}
    engine_defaults: ClassVar[dict[str, Any]] = {}
    #: True when the text encoder runs in the training graph (token embeddings train); else
    #: text embeddings are computed once and cached.
    text_encoder_in_graph: ClassVar[bool] = False
    #: fraction of captions replaced by "" (classifier-free guidance training)
    caption_dropout: ClassVar[float] = 0.0
    #: fraction of input-image latents zeroed (image-conditioned methods only)
    image_dropout: ClassVar[float] = 0.0
    #: whether the method's recipe can add a prior-preservation loss on class images
    supports_prior_preservation: ClassVar[bool] = False

    def __init__(self, cfg: MethodConfig):
        self.cfg = cfg
        self.options = {**schema_defaults(self.options_schema), **cfg.options}
        unknown = sorted(set(self.options) - set(self.options_schema))
        if unknown:
            raise ValueError(f"finetune.{self.name}: unknown option(s) {unknown}; expected {sorted(self.options_schema)}")

    @classmethod
    def config_schema(cls) -> dict:
        """JSON schema of the whole ``finetune.<name>`` block (engine keys and the method's own)."""
        engine = {key: {**spec, **({"default": cls.engine_defaults[key]} if key in cls.engine_defaults else {})}
                  for key, spec in ENGINE_OPTIONS.items()}
        if not cls.supports_prior_preservation:
            engine.pop("prior_loss_weight")
        return {"type": "object", "additionalProperties": False, "required": ["lr"],
                "description": f"{cls.title}: trains {cls.trains}", "properties": {**engine, **cls.options_schema}}

    @property
    def uses_class_images(self) -> bool:
        return self.supports_prior_preservation and self.cfg.prior_loss_weight > 0

    def modality_phrase(self, modality: str) -> str:
        return modality

    def prepare(self, components: Components) -> None:
        """Add tokens, adapters or processors; called once before training (and before resuming)."""

    def select_parameters(self, components: Components) -> list[torch.nn.Parameter]:
        raise NotImplementedError

    def after_optimizer_step(self, components: Components) -> None:
        """Hook for restoring parameters that must stay bit-identical."""

    def finalize(self, components: Components) -> None:
        """Called after the last step, before the model is saved (e.g. merge adapters into the weights)."""

    def metadata(self, modality: str) -> dict:
        return {"method": self.name, "modality_phrase": self.modality_phrase(modality)}


def schema_defaults(properties: Mapping[str, Mapping]) -> dict[str, Any]:
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def freeze_all(components: Components) -> None:
    for module in (components.vae, components.unet, components.text_encoder):
        module.requires_grad_(False)


def trainable(params: Iterable[torch.nn.Parameter]) -> list[torch.nn.Parameter]:
    out = []
    for p in params:
        p.requires_grad_(True)
        out.append(p)
    return out


class NewTokenMixin:
    """Adds one placeholder token whose embedding row alone trains (Textual Inversion, Custom Diffusion).

    Gradients of every other row are zeroed by a hook and, as diffusers' textual_inversion example
    does, the other rows are restored after each optimizer step, so they stay bit-identical even
    under weight decay.
    """

    token_ids: list[int]
    TOKEN_OPTIONS: ClassVar[dict[str, dict]] = {
        "placeholder_token": {"type": "string", "minLength": 1, "description": "the new token; {dataset} is replaced by the dataset's name"},
        "initializer_token": {"type": "string", "minLength": 1, "default": "scan",
                              "description": "a single CLIP token whose embedding initialises the new one"},
    }

    @property
    def placeholder_token(self) -> str:
        return self.options["placeholder_token"]

    def add_placeholder(self, components: Components) -> None:
        import torch

        placeholder, initializer = self.placeholder_token, self.options["initializer_token"]
        tokenizer, text_encoder = components.tokenizer, components.text_encoder
        if placeholder not in tokenizer.get_vocab():
            tokenizer.add_tokens([placeholder])
        init_ids = tokenizer.encode(initializer, add_special_tokens=False)
        if len(init_ids) != 1:
            from ..utils import LdbenchError

            raise LdbenchError(
                f"finetune.{self.name}.initializer_token: {initializer!r} is {len(init_ids)} tokens for the CLIP tokenizer; "
                "choose a word that is a single token (e.g. 'scan')"
            )
        self.token_ids = [tokenizer.convert_tokens_to_ids(placeholder)]
        if text_encoder.get_input_embeddings().num_embeddings < len(tokenizer):
            text_encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
            with torch.no_grad():
                emb = text_encoder.get_input_embeddings().weight
                emb[self.token_ids] = emb[init_ids[0]].clone()
        self._frozen_rows = text_encoder.get_input_embeddings().weight.detach().clone()

    def embedding_parameter(self, components: Components) -> torch.nn.Parameter:
        weight = components.text_encoder.get_input_embeddings().weight
        weight.requires_grad_(True)
        if getattr(self, "_masked_weight", None) is not weight:  # once per weight (a strategy may train several models)
            weight.register_hook(lambda grad: grad * self._trained_rows(grad))
            self._masked_weight = weight
        return weight

    def _trained_rows(self, like: torch.Tensor) -> torch.Tensor:
        """(vocab, 1) mask of the trained rows on ``like``'s device, built once per device."""
        import torch

        mask = getattr(self, "_row_mask", None)
        if mask is None or mask.device != like.device:
            mask = torch.zeros(len(self._frozen_rows), 1, dtype=torch.bool)
            mask[self.token_ids] = True
            self._row_mask = mask = mask.to(like.device)
        return mask

    def restore_frozen_rows(self, components: Components) -> None:
        """Without a boolean-mask index, so the step stays free of host–device syncs on a GPU."""
        import torch

        weight = components.text_encoder.get_input_embeddings().weight
        if self._frozen_rows.device != weight.device or self._frozen_rows.dtype != weight.dtype:
            self._frozen_rows = self._frozen_rows.to(weight.device, weight.dtype)
        with torch.no_grad():
            weight.copy_(torch.where(self._trained_rows(weight), weight, self._frozen_rows))
