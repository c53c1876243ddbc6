"""Privacy rights under PIPL: a volunteer downloads their own data and can delete their account."""
