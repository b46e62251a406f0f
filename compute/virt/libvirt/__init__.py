"""The libvirt virt driver: domain XML (``config``), domain states (``state``)."""
