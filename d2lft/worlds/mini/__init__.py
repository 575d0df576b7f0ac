"""The offline `mini` world, in one place: how its pictures are drawn (`drawing`), the hotdog dataset
generated from them (`dataset`), and the source model pretrained on other drawn foods (`source`: where it
is; `pretrain`: how it is built).

Its recipe (image sizes, counts, batch size) sits beside the real world's in `d2lft.worlds`.
"""
