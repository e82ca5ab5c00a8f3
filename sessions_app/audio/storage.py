"""Local storage for recordings that has no URL: media leaves only through the app's own views,
which check the reader's tenant and role (a MEDIA_URL would serve it to anyone who had the path)."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    def url(self, name):
        raise ValueError("Recordings have no public URL; they are served through the app.")
