"""What every layer shares: the Document record, the tokenizer and how text splits into words
and lines. filters/, dedup/ and pipeline/ build on it; it imports none of them."""
