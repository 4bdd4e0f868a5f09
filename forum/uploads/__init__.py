"""Attached files: told from their content, cleaned of their metadata, stored once by content.

kinds.py      what is accepted, from the first bytes; names.py  the shown name, cleaned
images.py     Pillow re-encoding; pdf.py  pikepdf rewriting and the PDFium thumbnail;
office.py     OOXML and OpenDocument packages rewritten; ooxml.py  what goes from an OOXML one
xmlsafe.py    their XML parts read without entities; textfiles.py  text and CSV as UTF-8
worker.py     the process that runs all of the above on one file, under resource limits
storage.py    files/tmp/ while receiving, files/ab/cd/<sha256> once stored
pipeline.py   Uploader.accept(): receive (streamed, limited), clean (worker), store, record
"""
