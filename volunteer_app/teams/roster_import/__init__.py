"""The office's roster import: parse.py reads a file into rows, apply.py checks every row and writes all or
nothing, jobs.py runs it in the background with its progress in ImportJob (and the `import` CLI), views.py
holds the pages (on the teams blueprint)."""
