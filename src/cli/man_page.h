/* man_page: shows one of r1lab's own manual pages, for `r1lab help config` and `r1lab help theme` (the formats of
 * section 5 have no command whose --help could describe them). The page is looked for as a file first, so that a
 * source tree shows its own pages without an install: $R1LAB_HOME/man, then man/ beside the binary, then the man/
 * of the tree it was built in, then the installed R1LAB_MAN_DIR/manS. A file is shown with `man -l` (man-db) or, without man, with mandoc; with no file,
 * `man S NAME` is asked for the page by name. Both page on a terminal and print plain text to a pipe. */
#ifndef R1LAB_MAN_PAGE_H
#define R1LAB_MAN_PAGE_H

/* Shows page NAME(section), e.g. ("r1lab-config", 5); returns the exit code: the viewer's, or 1 (reported, with
 * a hint) when the page or a program to show it cannot be found. */
int man_page_show(const char *name, int section);

#endif
