"""Reading the official annotation files of the scene datasets.

Shared by :class:`Places365`, :class:`ADE20KScene` and :class:`MITIndoor67`.
Every error names the dataset, the file and, where there is one, the
1-based line, so a bad download is found without a debugger; a missing file
also says what the layout should be and points at ``docs/datasets.md``.
Nothing here skips a bad line: the datasets' sizes are part of the paper's
protocol, and a silently shorter split would change the numbers. The
checks every dataset shares live here once: a listed image path must stay
inside its root and be listed once (:class:`ImageIndex`), a name once
(:class:`ListedOnce`).
"""
import os
import re
from typing import Dict, List, Optional, Set, Tuple

from mmengine.fileio import LocalBackend, get_file_backend

DOCS = 'docs/datasets.md'

NumberedLines = List[Tuple[int, str]]  # (1-based line number, text)
_DRIVE = re.compile(r'[A-Za-z]:')  # 'C:', absolute on Windows


def require_dir(path: str, dataset: str, expected: str) -> None:
    """Raise FileNotFoundError unless ``path`` is a directory."""
    if not get_file_backend(path, enable_singleton=True).isdir(path):
        raise FileNotFoundError(
            f"{dataset}: directory '{path}' not found. Expected {expected}. "
            f'See {DOCS} to prepare the dataset.')


def require_file(path: str, dataset: str, expected: str) -> None:
    """Raise FileNotFoundError unless ``path`` is a file."""
    if not get_file_backend(path, enable_singleton=True).isfile(path):
        raise FileNotFoundError(
            f"{dataset}: annotation file '{path}' not found. Expected "
            f'{expected}. See {DOCS} to prepare the dataset.')


def read_lines(path: str, dataset: str, expected: str) -> NumberedLines:
    """``(line number, stripped text)`` of each non-blank line of ``path``.

    Blank lines (a trailing newline) carry no sample, so they are the only
    lines dropped; CRLF endings and a BOM are tolerated. Lines are split on
    ``\\n`` only, so the numbers match what an editor shows.
    """
    require_file(path, dataset, expected)
    backend = get_file_backend(path, enable_singleton=True)
    try:
        text = backend.get_text(path, encoding='utf-8-sig')
    except UnicodeDecodeError as err:
        raise ValueError(f"{dataset}: '{path}' is not UTF-8 text ({err}); "
                         f'is it the official file?') from err
    return [(number, line.strip())
            for number, line in enumerate(text.split('\n'), start=1)
            if line.strip()]


def where(path: str, line_number: int) -> str:
    """``file:line``, the way compilers and editors name a location."""
    return f'{path}:{line_number}'


def split_fields(line: str, num_fields: int, path: str, line_number: int,
                 dataset: str, line_format: str) -> List[str]:
    """Whitespace-separated fields of ``line``; exactly ``num_fields``."""
    fields = line.split()
    if len(fields) != num_fields:
        raise ValueError(
            f'{dataset}: malformed line {where(path, line_number)}: '
            f'{line[:80]!r}; expected "{line_format}".')
    return fields


def parse_label(text: str, num_classes: int, path: str, line_number: int,
                dataset: str, class_file: str) -> int:
    """A class index in ``[0, num_classes)`` from its decimal ``text``."""
    try:
        label = int(text)
    except ValueError:
        raise ValueError(
            f'{dataset}: malformed line {where(path, line_number)}: class '
            f'index {text[:80]!r} is not an integer.') from None
    if not 0 <= label < num_classes:
        raise ValueError(
            f'{dataset}: class index {label} at {where(path, line_number)} '
            f'is not in the class list ({num_classes} classes read from '
            f"'{class_file}').")
    return label


def path_problem(path: str) -> Optional[str]:
    """Why the listed relative ``path`` is not a plain path inside the
    directory it is relative to, or None.

    The check is on the text: ``..`` or ``.`` components, empty ones
    (``a//b``, a trailing ``/``) and absolute paths are refused, so a line
    can neither leave the data root nor name an image listed elsewhere
    under another spelling (duplicates are found by comparing text).
    Backslashes count as separators here, as on Windows. Symbolic links
    under the root are followed: the root itself is often one
    (docs/datasets.md).
    """
    # The common case in a few substring tests (Places365's train list
    # has 1.8M lines): no '/.', '//', backslash, ':' second, or leading
    # '.' or '/' or trailing '/'.
    if not ('/.' in path or '//' in path or '\\' in path
            or path[1:2] == ':' or path[:1] in './' or path[-1:] == '/'):
        return None
    if path.startswith(('/', '\\')) or _DRIVE.match(path):
        return 'is absolute'
    parts = path.replace('\\', '/').split('/')
    if '..' in parts:
        return "has a '..' component (it would leave the data root)"
    if '.' in parts or '' in parts:
        return "has an empty or '.' component (not a normalised path)"
    return None


def check_path(path: str, ann_file: str, line_number: int, dataset: str,
               root: str) -> str:
    """``path`` if :func:`path_problem` finds nothing, else ValueError
    naming ``file:line``."""
    problem = path_problem(path)
    if problem is not None:
        raise ValueError(
            f'{dataset}: image path {path[:80]!r} at '
            f'{where(ann_file, line_number)} {problem}; expected a relative '
            f"path under '{root}' without '..', '.' or empty components.")
    return path


def already_listed(dataset: str, what: str, key: str, path: str,
                   line_number: int, first: int) -> ValueError:
    """The error for ``key`` listed again at ``path:line_number``."""
    return ValueError(
        f'{dataset}: {what} {key[:80]!r} at {where(path, line_number)} was '
        f'already listed at line {first}; expected each {what} once.')


class ListedOnce:
    """Refuses a key (image, class name) listed twice in one file, naming
    both lines: a repeated image is trained twice per epoch and counted
    twice by the metrics, a repeated class name makes two labels of one
    class.

    Args:
        dataset (str): Dataset name for error messages.
        path (str): The file being read.
        what (str): What a key is, e.g. ``'image'``.
    """

    def __init__(self, dataset: str, path: str, what: str) -> None:
        self.dataset, self.path, self.what = dataset, path, what
        self._first: Dict[str, int] = {}  # key -> line where first listed

    def add(self, key: str, line_number: int) -> None:
        first = self._first.setdefault(key, line_number)
        if first != line_number:
            raise already_listed(self.dataset, self.what, key, self.path,
                                 line_number, first)


class ImageIndex:
    """Full paths of listed images, checked with one listing per directory.

    A ``stat`` per image would be 1.8M system calls for Places365's train
    split (minutes on a network file system); listing each image directory
    once and testing set membership costs one ``scandir`` per class
    directory and keeps the check cheap enough to run at every start.
    Paths are joined with one backend built up front, since
    ``mmengine.fileio.join_path`` infers a backend on every call (seconds
    over 1.8M lines). Every path is checked with :func:`check_path`, and
    an image listed twice is refused (:func:`already_listed`); one index
    serves one annotation file.

    Args:
        dataset (str): Dataset name for error messages.
        root (str): The directory the listed paths are relative to.
        check (bool): Whether :meth:`path` checks that the image exists.
            Defaults to True.
    """

    def __init__(self, dataset: str, root: str, check: bool = True) -> None:
        self.dataset = dataset
        self.root = root
        self.check = check
        self._backend = get_file_backend(root, enable_singleton=True)
        # relative directory -> (full directory, its file names or None,
        # {name: line where listed}). One annotation file per index.
        self._dirs: Dict[str, Tuple[str, Optional[Set[str]],
                                    Dict[str, int]]] = {}

    def _list_files(self, directory: str) -> Set[str]:
        if not self._backend.isdir(directory):
            return set()
        if isinstance(self._backend, LocalBackend):
            # Direct scandir: the backend's listing calls relpath per
            # entry, seconds over Places365's 1.8M files.
            with os.scandir(directory) as entries:
                return {entry.name for entry in entries if entry.is_file()}
        return set(
            self._backend.list_dir_or_file(
                directory, list_dir=False, list_file=True))

    def path(self, relative_path: str, ann_file: str,
             line_number: int) -> str:
        """The full path of ``relative_path``; raises ValueError naming the
        annotation line for a path :func:`check_path` refuses or one
        already listed, FileNotFoundError naming the image and the line if
        checking and it is absent."""
        if path_problem(relative_path) is not None:
            check_path(relative_path, ann_file, line_number, self.dataset,
                       self.root)
        directory, _, name = relative_path.rpartition('/')
        if directory not in self._dirs:
            full_dir = (self._backend.join_path(self.root, directory)
                        if directory else self.root)
            self._dirs[directory] = (
                full_dir, self._list_files(full_dir) if self.check else None,
                {})
        full_dir, names, listed = self._dirs[directory]
        # Keyed per directory: small dicts, short keys (1.8M lines for
        # Places365's train list). Paths are normalised (check_path), so
        # equal text is the same image.
        first = listed.setdefault(name, line_number)
        if first != line_number:
            raise already_listed(self.dataset, 'image', relative_path,
                                 ann_file, line_number, first)
        img_path = self._backend.join_path(full_dir, name)
        if names is not None and name not in names:
            raise FileNotFoundError(
                f"{self.dataset}: image '{img_path}', listed at "
                f'{where(ann_file, line_number)}, does not exist.')
        return img_path
