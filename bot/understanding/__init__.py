"""Understanding a member of staff's own words: which conversation a first message asks
for, how sure that is, and whether it may be about a child at risk.

A classifier trained on a labelled corpus (corpus/*.tsv, one file per conversation) rather
than a regular expression per conversation: every miss is fixed by adding the phrasing to
the corpus, and `bench/understanding.py` measures what that does to everything else.
"""
