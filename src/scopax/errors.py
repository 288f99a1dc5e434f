"""The exceptions scopax raises; each subclasses ``ValueError`` or ``TypeError``.

>>> import scopax as sx
>>> issubclass(sx.errors.VariableExistsError, ValueError)
True
"""

from scopax._src.core.errors import AssignError as AssignError
from scopax._src.core.errors import CheckpointCorruptError as CheckpointCorruptError
from scopax._src.core.errors import CheckpointExistsError as CheckpointExistsError
from scopax._src.core.errors import CheckpointMismatchError as CheckpointMismatchError
from scopax._src.core.errors import CheckpointNotFoundError as CheckpointNotFoundError
from scopax._src.core.errors import CheckpointTreeError as CheckpointTreeError
from scopax._src.core.errors import DtypeMismatchError as DtypeMismatchError
from scopax._src.core.errors import GraphOnlyError as GraphOnlyError
from scopax._src.core.errors import InitializerDtypeError as InitializerDtypeError
from scopax._src.core.errors import InitializerShapeError as InitializerShapeError
from scopax._src.core.errors import InitializerSignatureError as InitializerSignatureError
from scopax._src.core.errors import InnerTraceError as InnerTraceError
from scopax._src.core.errors import (
    InvalidInitializerArgumentError as InvalidInitializerArgumentError,
)
from scopax._src.core.errors import InvalidRngError as InvalidRngError
from scopax._src.core.errors import InvalidShapeError as InvalidShapeError
from scopax._src.core.errors import JittedFunctionError as JittedFunctionError
from scopax._src.core.errors import LiftedTransformError as LiftedTransformError
from scopax._src.core.errors import MissingDependencyError as MissingDependencyError
from scopax._src.core.errors import MissingParamError as MissingParamError
from scopax._src.core.errors import MissingRngError as MissingRngError
from scopax._src.core.errors import NameConflictError as NameConflictError
from scopax._src.core.errors import NNArgumentError as NNArgumentError
from scopax._src.core.errors import NonTrainableInTransformError as NonTrainableInTransformError
from scopax._src.core.errors import NotInTransformError as NotInTransformError
from scopax._src.core.errors import OpArgumentError as OpArgumentError
from scopax._src.core.errors import ParamDtypeError as ParamDtypeError
from scopax._src.core.errors import ParamShapeError as ParamShapeError
from scopax._src.core.errors import ParamsImmutableError as ParamsImmutableError
from scopax._src.core.errors import ParamTypeError as ParamTypeError
from scopax._src.core.errors import ScopaxError as ScopaxError
from scopax._src.core.errors import ScopeArgumentError as ScopeArgumentError
from scopax._src.core.errors import ScopeNameMissingError as ScopeNameMissingError
from scopax._src.core.errors import ShapeMismatchError as ShapeMismatchError
from scopax._src.core.errors import ShapeRequiredError as ShapeRequiredError
from scopax._src.core.errors import ShapeTypeError as ShapeTypeError
from scopax._src.core.errors import ShardingError as ShardingError
from scopax._src.core.errors import SlotMismatchError as SlotMismatchError
from scopax._src.core.errors import TemplateArgumentError as TemplateArgumentError
from scopax._src.core.errors import TrainArgumentError as TrainArgumentError
from scopax._src.core.errors import TreeArgumentError as TreeArgumentError
from scopax._src.core.errors import UnflattenError as UnflattenError
from scopax._src.core.errors import UnsupportedCheckpointError as UnsupportedCheckpointError
from scopax._src.core.errors import VariableExistsError as VariableExistsError
from scopax._src.core.errors import VariableNotFoundError as VariableNotFoundError
