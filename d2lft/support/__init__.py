"""What every part of the course stands on, which a student need not read: `settings` (every `D2LFT_*`
variable), `paths` (where files go), `files` (every file written whole or not at all) and `images` (any image
file read upright as RGB, or refused with an error that names the file and the fix)."""
