"""d2lft: the shared code of the fine-tuning course (data, worlds, training, plots).

Names follow Dive into Deep Learning where the book has one (`train_ch13`, `show_images`,
`try_all_gpus`, `DATA_HUB`, `download_extract`), so a reader of the book finds their way.
Importing the package has no side effects: no seeding, no plotting settings, no network.
"""

from .cache import DecodedImageFolder, DecodedLoader, augment_batch, decode_resized, load_data_hotdog_cached
from .checkpoint import load_checkpoint, save_checkpoint
from .data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    BadImageError,
    CheckedImageFolder,
    denormalize,
    hotdog_augs,
    hotdog_splits,
    image_folder,
    load_data_hotdog,
    load_image,
    loader_options,
    normalize,
    to_rgb,
)
from .devices import try_all_gpus, try_gpu
from .finetune import count_parameters, fine_tuning_groups, replace_fc, train_fine_tuning
from .freeze import (
    extract_features,
    keep_frozen_bn_in_eval,
    param_groups_by_prefix,
    params_to_learn,
    set_parameter_requires_grad,
    unfreeze_children,
)
from .hub import (
    DATA_HUB,
    DATA_URL,
    ChecksumError,
    DownloadError,
    UnsafeArchiveError,
    download,
    download_extract,
    extract_archive,
    sha1sum,
)
from .metrics import Accumulator, accuracy, collect_logits, confusion_matrix, evaluate_accuracy, predict
from .models import WeightsError, load_pretrained, verify_weights_file, weights_cache_path
from .paths import REPO_ROOT, data_dir
from .plot import Animator, plot_confusion_matrix, plot_histories, show_images
from .train import History, train_batch_ch13, train_ch13
from .worlds import CLASSES, WORLDS, World, course_seed, get_world, hotdog_dir, make_mini_hotdog

__all__ = [
    "Accumulator",
    "Animator",
    "BadImageError",
    "CLASSES",
    "CheckedImageFolder",
    "ChecksumError",
    "DATA_HUB",
    "DATA_URL",
    "DecodedImageFolder",
    "DecodedLoader",
    "DownloadError",
    "History",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "REPO_ROOT",
    "UnsafeArchiveError",
    "WORLDS",
    "WeightsError",
    "World",
    "accuracy",
    "augment_batch",
    "collect_logits",
    "confusion_matrix",
    "count_parameters",
    "course_seed",
    "data_dir",
    "decode_resized",
    "denormalize",
    "download",
    "download_extract",
    "evaluate_accuracy",
    "extract_archive",
    "extract_features",
    "fine_tuning_groups",
    "get_world",
    "hotdog_augs",
    "hotdog_dir",
    "hotdog_splits",
    "image_folder",
    "keep_frozen_bn_in_eval",
    "load_checkpoint",
    "load_data_hotdog",
    "load_data_hotdog_cached",
    "load_image",
    "load_pretrained",
    "loader_options",
    "make_mini_hotdog",
    "normalize",
    "param_groups_by_prefix",
    "params_to_learn",
    "plot_confusion_matrix",
    "plot_histories",
    "predict",
    "replace_fc",
    "save_checkpoint",
    "set_parameter_requires_grad",
    "sha1sum",
    "show_images",
    "to_rgb",
    "train_batch_ch13",
    "train_ch13",
    "train_fine_tuning",
    "try_all_gpus",
    "try_gpu",
    "unfreeze_children",
    "verify_weights_file",
    "weights_cache_path",
]
