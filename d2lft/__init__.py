"""d2lft: the shared code of the fine-tuning course (data, models, training, freezing, plots, your photos).

Names follow Dive into Deep Learning where the book has one (`train_ch13`, `show_images`,
`try_all_gpus`, `DATA_HUB`, `download_extract`), so a reader of the book finds their way.
Importing the package has no side effects: no seeding, no plotting settings, no network.

What a student reads is this folder's modules; the subpackages hold what they need not read: `worlds`
(which data world, the book's downloads, checked weights files, the mini world's drawings and source
model), `support` (settings, where files go, safe writes, reading any image file), `speed` (the
decode-once cache and DDP) and `commands` (`python -m d2lft finetune` and `predict`). The package
exports what the notebooks call; everything else is reached by its module. The modules are layered
from the bottom up: a module imports only those before it, on its line or above.

    support, support.settings, support.paths, support.files, support.images   settings; files; images
    devices, imagenet                                   the book's try_gpu; ImageNet's normalisation
    worlds.downloads, worlds.weights                    the book's DATA_HUB, mirrors; checked weights files
    worlds.mini.drawing, worlds                         the mini world's pictures; which world, its recipe
    worlds.mini, worlds.mini.source, worlds.mini.dataset  the mini source model's file; the mini datasets
    data, folders                                       the hotdog folders and their DataLoaders; your photos
    metrics, plot, cam                                  accuracy, History, predictions; figures; Grad-CAM
    train, fast, speed, speed.decoded                   the book's loop and `fit`; the fast path and its cache
    worlds.mini.pretrain, models, checkpoint, freeze    pretraining the mini source; sources; saving; freezing
    speed.distributed, recipe, lr_finder                the book's recipe, on one or many devices; a rate
    predict, strategies                                 a kept model; your photos: probe, last stage or all
    commands, commands.finetune, commands.predict       the command lines
    worlds.mini.__main__, __main__                      building the mini source; python -m d2lft COMMAND

All of `worlds` sits below the data modules except `worlds.mini.pretrain`, which pretrains the mini
source through the course's one loop (`train.fit`). The developers' tools (a course pass, the
rehearsal, spreads, benchmarks) live beside the package in `tools/`: they import `d2lft`, and nothing
here imports them.
"""

from .cam import cam_layer, grad_cam, show_cams
from .checkpoint import load_checkpoint, save_checkpoint
from .data import hotdog_augs, hotdog_dir, image_folder, load_data_hotdog, validation_split
from .devices import try_all_gpus, try_gpu
from .fast import train_fast
from .folders import example_photos, photo_splits
from .freeze import (
    extract_features,
    keep_bn_in_eval,
    keep_frozen_bn_in_eval,
    param_groups_by_prefix,
    params_to_learn,
    set_parameter_requires_grad,
    unfreeze_children,
)
from .imagenet import IMAGENET_MEAN, IMAGENET_STD, denormalize, normalize
from .lr_finder import lr_find, plot_lr_find
from .metrics import Accumulator, History, accuracy, collect_logits, confusion_matrix, evaluate_accuracy, predict_labels
from .models import load_pretrained
from .plot import Animator, plot_confusion_matrix, plot_histories, show_images
from .predict import load_model, predict_files, save_model
from .recipe import count_parameters, fine_tuning_groups, fine_tuning_trainer, replace_fc, train_fine_tuning
from .speed.decoded import load_data_hotdog_decoded
from .support.images import BadImageError, image_size, load_image
from .support.paths import data_dir
from .train import estimate_training_time, train_ch13
from .worlds import CLASSES, course_seed, get_world
from .worlds.downloads import DATA_HUB, download_extract

__all__ = [
    "Accumulator",
    "Animator",
    "BadImageError",
    "CLASSES",
    "DATA_HUB",
    "History",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "accuracy",
    "cam_layer",
    "collect_logits",
    "confusion_matrix",
    "count_parameters",
    "course_seed",
    "data_dir",
    "denormalize",
    "download_extract",
    "estimate_training_time",
    "evaluate_accuracy",
    "example_photos",
    "extract_features",
    "fine_tuning_groups",
    "fine_tuning_trainer",
    "get_world",
    "grad_cam",
    "hotdog_augs",
    "hotdog_dir",
    "image_folder",
    "image_size",
    "keep_bn_in_eval",
    "keep_frozen_bn_in_eval",
    "load_checkpoint",
    "load_data_hotdog",
    "load_data_hotdog_decoded",
    "load_image",
    "load_model",
    "load_pretrained",
    "lr_find",
    "normalize",
    "param_groups_by_prefix",
    "params_to_learn",
    "photo_splits",
    "plot_confusion_matrix",
    "plot_histories",
    "plot_lr_find",
    "predict_files",
    "predict_labels",
    "replace_fc",
    "save_checkpoint",
    "save_model",
    "set_parameter_requires_grad",
    "show_cams",
    "show_images",
    "train_ch13",
    "train_fast",
    "train_fine_tuning",
    "try_all_gpus",
    "try_gpu",
    "unfreeze_children",
    "validation_split",
]
